"""One search over the whole hub: models, datasets and tutorials (``repo_best_matches``, with the
listings' visibility and matching), and the people and organizations that own them. The search
page and the header's suggestions both read it."""

from __future__ import annotations

from dataclasses import dataclass

from hub.models import Namespace
from hub.selectors import namespace_search
from registry.choices import RepoType
from registry.models import Repo
from registry.selectors.repos import SEARCH_POOL, repo_best_matches

# Longer queries are cut: nobody types more, and each word is a condition of the query.
MAX_QUERY_CHARS = 200
# People and organizations are counted up to this many; past it a count reads "200+"
# (``capped``): counting every match of a common word costs as much as the search itself.
# Repositories are counted by the pool their best matches are ranked in (``SEARCH_POOL``).
COUNT_CAP = SEARCH_POOL


@dataclass(frozen=True)
class RepoGroup:
    """The best matches of one kind of repository, and how many match in all (``SEARCH_POOL`` at
    most: ``capped`` says there are more)."""

    repo_type: RepoType
    total: int
    repos: list[Repo]
    capped: bool = False


@dataclass(frozen=True)
class SiteSearch:
    query: str
    groups: list[RepoGroup]  # models, datasets, tutorials, in that order
    namespace_total: int
    namespaces: list[Namespace]
    namespace_capped: bool = False

    @property
    def total(self) -> int:
        return sum(group.total for group in self.groups) + self.namespace_total

    @property
    def capped(self) -> bool:
        """Whether ``total`` counts only the first matches of some kind (up to its cap)."""
        return self.namespace_capped or any(group.capped for group in self.groups)


def search_query_clean(query: str) -> str:
    return " ".join(query.split())[:MAX_QUERY_CHARS]


def _count_capped(queryset) -> tuple[int, bool]:
    """How many rows ``queryset`` has, counting no further than ``COUNT_CAP`` (no ordering, no
    ranking: the first rows the index finds), and whether there are more."""
    found = queryset.order_by().prefetch_related(None).values("pk")[: COUNT_CAP + 1].count()
    return min(found, COUNT_CAP), found > COUNT_CAP


def site_search(*, user, query: str, limit: int) -> SiteSearch:
    """The ``limit`` best matches of each kind for ``user`` (what they may see), best first, with
    how many of each kind match, counted up to ``SEARCH_POOL`` (people and organizations up to
    ``COUNT_CAP``). An empty query matches nothing."""
    query = search_query_clean(query)
    if not query:
        return SiteSearch(query="", groups=[RepoGroup(t, 0, []) for t in RepoType], namespace_total=0, namespaces=[])
    best_by_type = repo_best_matches(user=user, query=query, limit=limit)
    groups = [
        RepoGroup(repo_type=repo_type, total=best.total, repos=best.repos, capped=best.capped)
        for repo_type, best in best_by_type.items()
    ]
    namespaces = namespace_search(query=query)
    found = list(namespaces[:limit])
    namespace_total, namespace_capped = (len(found), False) if len(found) < limit else _count_capped(namespaces)
    return SiteSearch(
        query=query, groups=groups, namespace_total=namespace_total, namespaces=found,
        namespace_capped=namespace_capped,
    )  # fmt: skip
