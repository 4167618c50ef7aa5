"""One search over the whole hub: models, datasets and tutorials (through the listings' own
``repo_list``, so visibility and matching are the listings'), and the people and organizations
that own them. The search page and the header's suggestions both read it."""

from __future__ import annotations

from dataclasses import dataclass

from hub.models import Namespace
from hub.selectors import namespace_search
from registry.choices import RepoType
from registry.models import Repo
from registry.selectors.repos import RepoFilters, repo_list

# Longer queries are cut: nobody types more, and each word is a condition of the query.
MAX_QUERY_CHARS = 200


@dataclass(frozen=True)
class RepoGroup:
    """The best matches of one kind of repository, and how many match in all."""

    repo_type: RepoType
    total: int
    repos: list[Repo]


@dataclass(frozen=True)
class SiteSearch:
    query: str
    groups: list[RepoGroup]  # models, datasets, tutorials, in that order
    namespace_total: int
    namespaces: list[Namespace]

    @property
    def total(self) -> int:
        return sum(group.total for group in self.groups) + self.namespace_total


def search_query_clean(query: str) -> str:
    return " ".join(query.split())[:MAX_QUERY_CHARS]


def site_search(*, user, query: str, limit: int) -> SiteSearch:
    """The first ``limit`` matches of each kind for ``user`` (what they may see), trending first,
    with the total of each kind. An empty query matches nothing."""
    query = search_query_clean(query)
    if not query:
        return SiteSearch(query="", groups=[RepoGroup(t, 0, []) for t in RepoType], namespace_total=0, namespaces=[])
    groups = []
    for repo_type in RepoType:
        repos = repo_list(user=user, filters=RepoFilters(repo_type=repo_type, search=query))
        groups.append(RepoGroup(repo_type=repo_type, total=repos.count(), repos=list(repos[:limit])))
    namespaces = namespace_search(query=query)
    return SiteSearch(
        query=query, groups=groups, namespace_total=namespaces.count(), namespaces=list(namespaces[:limit])
    )
