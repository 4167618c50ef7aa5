"""Listing and searching repositories, always through ``Repo.objects.visible_to``."""

from __future__ import annotations

import base64
import binascii
import json
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection, transaction
from django.db.models import Expression, Q, QuerySet

from common.errors import ValidationError
from hub.models import Namespace
from registry.choices import RepoSort, RepoType
from registry.models import Ref, Repo, RepoTag

SORT_FIELDS = {
    RepoSort.TRENDING: "-trending_score",
    RepoSort.DOWNLOADS: "-downloads",
    RepoSort.LIKES: "-likes",
    RepoSort.LAST_MODIFIED: "-last_modified",
    RepoSort.CREATED: "-created_at",
}
# Spellings the HF client and older clients send for the same sorts.
SORT_ALIASES = {
    "trending": RepoSort.TRENDING, "trending_score": RepoSort.TRENDING, "trendingScore": RepoSort.TRENDING,
    "downloads": RepoSort.DOWNLOADS, "likes": RepoSort.LIKES,
    "lastModified": RepoSort.LAST_MODIFIED, "last_modified": RepoSort.LAST_MODIFIED, "updated": RepoSort.LAST_MODIFIED,
    "createdAt": RepoSort.CREATED, "created_at": RepoSort.CREATED, "created": RepoSort.CREATED,
}  # fmt: skip

_WORD = re.compile(r"\w+", re.UNICODE)
# A model tree lists its children by id up to this many (``repo_model_tree``).
CHILDREN_BY_ID = 500
# The site search ranks this many of each type's most trending matches (``repo_best_matches``),
# and finds them among this many of the type's most trending repositories first (``_search_pool``).
SEARCH_POOL = 200
POOL_WALK = 4000
# A listing of a search counts its matches up to this many (``RepoListing``).
SEARCH_COUNT_CAP = 1000


@dataclass(frozen=True)
class RepoFilters:
    """What a listing asks for; every field is optional."""

    repo_type: RepoType
    search: str = ""
    author: str = ""
    tags: tuple[str, ...] = field(default_factory=tuple)
    pipeline_tag: str = ""
    library: str = ""
    license: str = ""
    language: str = ""
    gated: bool | None = None
    sort: str = ""


def sort_parse(value: str | None) -> RepoSort | None:
    if not value:
        return None
    try:
        return SORT_ALIASES[value]
    except KeyError:
        allowed = ", ".join(sorted(SORT_ALIASES))
        raise ValidationError(
            f"Unknown sort '{value}'; use one of {allowed}.", fields={"sort": ["Unknown sort."]}
        ) from None


class _StoredSearchVector(Expression):
    """``registry_repo.search_vector``: the stored ``tsvector`` of ``search_document`` that only
    PostgreSQL has (migration 0011), so matching and ranking parse no document per request."""

    def __init__(self):
        from django.contrib.postgres.search import SearchVectorField

        super().__init__(output_field=SearchVectorField())

    def as_sql(self, compiler, connection):
        table = compiler.quote_name_unless_alias(compiler.query.get_initial_alias())
        return f"{table}.{connection.ops.quote_name('search_vector')}", []


def _search_words(query: str) -> list[str]:
    return _WORD.findall(query.lower())[:16]


def _search_tsquery(words: list[str]):
    from django.contrib.postgres.search import SearchQuery

    # Whole words, and the last as a prefix (it may be still being typed): a prefix of every word
    # merges the index's entries for every word it begins, several times the cost.
    terms = [*words[:-1], f"{words[-1]}:*"]
    return SearchQuery(" & ".join(terms), search_type="raw", config="simple")


def _search_condition(query: str) -> Q | None:
    """What a repository matching every word of ``query`` satisfies (None: no words). On
    PostgreSQL: the stored search vector holds them (whole words, the last as a prefix), or the
    repository's or its owner's name contains them; on SQLite the indexed text contains them."""
    words = _search_words(query)
    if not words:
        return None
    if connection.vendor != "postgresql":
        condition = Q()
        for word in words:
            condition &= Q(search_document__icontains=word)
        return condition
    # The owners each word names, in one query; a word that names none is matched in repository
    # names alone, so the words' name conditions meet in one scan of the trigram index.
    named = Q()
    for word in words:
        named |= Q(name__icontains=word)
    owners = list(Namespace.objects.filter(named).values_list("id", "name"))
    name_match = Q()
    for word in words:
        ids = [pk for pk, name in owners if word in name.lower()]
        name_match &= Q(name__icontains=word) | Q(namespace_id__in=ids) if ids else Q(name__icontains=word)
    return Q(search_vector=_search_tsquery(words)) | name_match


def _search(queryset: QuerySet, condition: Q | None) -> QuerySet:
    """``queryset`` narrowed to the matches of a ``_search_condition``; order left to the caller."""
    if condition is None:
        return queryset
    if connection.vendor == "postgresql":
        queryset = queryset.alias(search_vector=_StoredSearchVector())
    return queryset.filter(condition)


def repo_ordering(filters: RepoFilters) -> tuple[str, ...]:
    """The order ``repo_list`` gives ``filters``: every key descending, ``id`` last (unique).

    A search filters and leaves the order alone (trending when no ``sort`` is given): every
    listing can then walk an index of its order and stop after a page, however many repositories
    match. Only the site search ranks by relevance (``repo_best_matches``)."""
    sort = sort_parse(filters.sort)
    if sort is not None:
        return (SORT_FIELDS[sort], "-id")
    return ("-trending_score", "-last_modified", "-id")


def repo_list(*, user, filters: RepoFilters) -> QuerySet[Repo]:
    """Repositories ``user`` may see that match ``filters``, in ``repo_ordering(filters)``.

    The API listings add each page's tags (``repo_tags``) and head commits (``repo_head_oids``),
    one query each for the page: not a subquery per row, which a page far down the list would pay
    for every skipped row, nor tags the web pages do not show.
    """
    queryset = Repo.objects.visible_to(user).filter(type=filters.repo_type).select_related("namespace")
    if filters.author:
        queryset = queryset.filter(namespace__name__iexact=filters.author)
    for tag in filters.tags:
        queryset = queryset.filter(pk__in=RepoTag.objects.filter(tag=tag).values("repo_id"))
    if filters.pipeline_tag:
        queryset = queryset.filter(pipeline_tag=filters.pipeline_tag)
    if filters.library:
        queryset = queryset.filter(library_name=filters.library)
    if filters.license:
        queryset = queryset.filter(license=filters.license)
    if filters.language:
        queryset = queryset.filter(pk__in=RepoTag.objects.filter(tag=filters.language).values("repo_id"))
    if filters.gated is not None:
        queryset = queryset.exclude(gated="") if filters.gated else queryset.filter(gated="")
    if filters.search:
        queryset = _search(queryset, _search_condition(filters.search))
    return queryset.order_by(*repo_ordering(filters))


@dataclass(frozen=True)
class BestMatches:
    """The best matches of a search of one repository type: ``repos``, best first, and how many
    of the ``SEARCH_POOL`` most trending matches there are (``capped``: there are more)."""

    repos: list[Repo]
    total: int
    capped: bool


def repo_best_matches(*, user, query: str, limit: int) -> dict[RepoType, BestMatches]:
    """The ``limit`` best matches of ``query`` of each repository type that ``user`` may see.

    Best: the most relevant (``ts_rank`` of the stored search vector on PostgreSQL, the listing
    order on SQLite) of the ``SEARCH_POOL`` most trending matches, trending breaking ties.
    Ranking every match of a common word reads every one of them, tens of thousands at scale;
    the pool (``_search_pool``) reads about as many rows as it holds, and the same rows count
    the matches up to ``SEARCH_POOL``. Then one query for the rows shown.
    """
    condition = _search_condition(query)
    picked: dict[RepoType, tuple[list[int], int, bool]] = {}
    for repo_type in RepoType:
        pool = [] if condition is None else _search_pool(user, repo_type, query, condition)
        capped = len(pool) > SEARCH_POOL
        pool = pool[:SEARCH_POOL]
        best = sorted(range(len(pool)), key=lambda place: (-pool[place][1], place))[:limit]
        picked[repo_type] = ([pool[place][0] for place in best], len(pool), capped)
    rows = Repo.objects.select_related("namespace").in_bulk([pk for ids, _, _ in picked.values() for pk in ids])
    return {
        repo_type: BestMatches(repos=[rows[pk] for pk in ids if pk in rows], total=total, capped=capped)
        for repo_type, (ids, total, capped) in picked.items()
    }


def _search_pool(user, repo_type: RepoType, query: str, condition: Q) -> list[tuple[int, float]]:
    """(id, relevance) of the ``SEARCH_POOL + 1`` most trending matches of ``repo_type``, in the
    listings' order.

    PostgreSQL estimates a word's matches over all types: a word common among models but absent
    from datasets makes it walk the datasets' trending index to its end (43 ms for 25,000
    datasets). So the walk is bounded: first the matches among the type's ``POOL_WALK`` most
    trending repositories (an index range the planner estimates from its histogram); only if
    they do not fill the pool are matches sparse, and the rest come from the search indexes
    (a bitmap scan, index walks turned off for that one query), ordered there.
    """
    ordering = repo_ordering(RepoFilters(repo_type=repo_type))
    matched = _search(Repo.objects.visible_to(user).filter(type=repo_type), condition).order_by(*ordering)
    if connection.vendor != "postgresql":
        return [(pk, 0.0) for pk in matched.values_list("pk", flat=True)[: SEARCH_POOL + 1]]
    from django.contrib.postgres.search import SearchRank

    ranked = matched.annotate(search_rank=SearchRank(_StoredSearchVector(), _search_tsquery(_search_words(query))))
    ranked = ranked.values_list("pk", "search_rank")
    by_trending = Repo.objects.filter(type=repo_type).order_by("-trending_score")
    bound = by_trending.values_list("trending_score", flat=True)[POOL_WALK - 1 : POOL_WALK].first()
    if bound is None:  # fewer repositories of this type than a walk reads
        return list(ranked[: SEARCH_POOL + 1])
    pool = list(ranked.filter(trending_score__gte=bound)[: SEARCH_POOL + 1])
    if len(pool) <= SEARCH_POOL:
        with _bitmap_scans_only():
            pool += ranked.filter(trending_score__lt=bound)[: SEARCH_POOL + 1 - len(pool)]
    return pool


@contextmanager
def _bitmap_scans_only():
    """Run the queries inside on PostgreSQL's bitmap scans only: the search indexes then find
    the matches, where the planner, estimating a word's matches over every type, would walk
    an order's index or the whole table expecting them everywhere."""
    nested = connection.in_atomic_block
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT set_config('enable_indexscan', 'off', true), set_config('enable_seqscan', 'off', true)")
        try:
            yield
        finally:
            if nested:  # a transaction of our own ends here, and its settings with it
                cursor.execute("RESET enable_indexscan; RESET enable_seqscan")


class RepoListing:
    """A listing of repositories to slice, directly or through a paginator (Django's, DRF's).

    ``count()`` counts every row; a search's (``search=True``) up to ``SEARCH_COUNT_CAP``
    (``capped``: there are more, and pages past the cap are not numbered): counting every match
    of a common word reads every one of them (57 ms for 16,677 of 100,000 repositories), up to
    the cap from the search indexes a few milliseconds.

    A slice past the first row takes two queries: the ids of the rows wanted, which the order's
    index answers alone where it holds the listing's filters (type and visibility:
    ``Repo.Meta.indexes``), and then those rows (a queryset, to annotate further). In one query
    every skipped row is read (73 ms for 20,000 against 3 ms).
    """

    def __init__(self, queryset: QuerySet[Repo], *, search: bool = False):
        self.queryset = queryset
        self.search = search
        self.capped: bool | None = False if search else None  # None: never capped

    @property
    def ordered(self) -> bool:
        return self.queryset.ordered

    def count(self) -> int:
        if not self.search:
            return self.queryset.count()
        window = self.queryset.order_by().values("pk")[: SEARCH_COUNT_CAP + 1]
        if connection.vendor == "postgresql":
            with _bitmap_scans_only():
                found = window.count()
        else:
            found = window.count()
        self.capped = found > SEARCH_COUNT_CAP
        return min(found, SEARCH_COUNT_CAP)

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index):
        if not isinstance(index, slice) or not index.start:
            return self.queryset[index]
        ids = list(self.queryset.values_list("pk", flat=True)[index])
        return self.queryset.filter(pk__in=ids)  # in the listing's order still


def repo_listing(*, user, filters: RepoFilters) -> RepoListing:
    """``repo_list`` to page through: counted up to the cap when it is a search."""
    return RepoListing(repo_list(user=user, filters=filters), search=bool(filters.search))


def repo_tags(repos: list[Repo]) -> dict[int, list[str]]:
    """The tags of each of ``repos`` in card order, by id: one query of plain values (a
    ``prefetch_related`` builds a model and a related manager per tag, most of a 1,000-row page)."""
    tags: dict[int, list[str]] = {repo.pk: [] for repo in repos}
    if tags:
        rows = RepoTag.objects.filter(repo_id__in=list(tags)).order_by("id").values_list("repo_id", "tag")
        for repo_id, tag in rows:
            tags[repo_id].append(tag)
    return tags


def repo_head_oids(repos: list[Repo]) -> None:
    """Set ``head_oid`` (the default branch's commit, or None) on each of ``repos``: one query."""
    if not repos:
        return
    heads = Ref.objects.filter(
        repo_id__in=[repo.pk for repo in repos], name__in={f"refs/heads/{repo.default_branch}" for repo in repos}
    ).values_list("repo_id", "name", "target_oid")
    found = {(repo_id, name): oid for repo_id, name, oid in heads}
    for repo in repos:
        repo.head_oid = found.get((repo.pk, f"refs/heads/{repo.default_branch}"))


# -------------------------------------------------------------------------------- keyset pages

# The keys of ``repo_ordering`` and how a cursor carries their values.
_CURSOR_DATETIMES = {"last_modified", "created_at"}
_CURSOR_INTEGERS = {"id", "downloads", "likes"}
_CURSOR_FLOATS = {"trending_score"}


def repo_cursor(repo: Repo, ordering: tuple[str, ...]) -> str:
    """An opaque cursor for the rows after ``repo`` in ``ordering``: its sort values and id."""
    values = []
    for key in ordering:
        value = getattr(repo, key.lstrip("-"))
        values.append(value.isoformat() if isinstance(value, datetime) else value)
    raw = json.dumps({"o": list(ordering), "v": values}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _cursor_value(key: str, value):
    if key in _CURSOR_DATETIMES and isinstance(value, str):
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            raise ValueError("naive datetime")
        return parsed
    if key in _CURSOR_INTEGERS and type(value) is int:
        return value
    if key in _CURSOR_FLOATS and type(value) in (int, float):
        return float(value)
    raise ValueError(f"bad value for {key}")


def repo_cursor_values(cursor: str, ordering: tuple[str, ...]) -> list:
    """The sort values ``repo_cursor`` put in ``cursor``; a ``ValidationError`` (400) for a cursor
    that is malformed or was made for another order (another ``sort``, or a search added)."""
    try:
        decoded = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(decoded, dict) or not isinstance(decoded.get("v"), list):
            raise ValueError("not a cursor")
        if decoded.get("o") != list(ordering):
            raise ValidationError(
                "This cursor belongs to a listing in another order: start again without 'cursor'.",
                fields={"cursor": ["Another order."]},
            )
        if len(decoded["v"]) != len(ordering):
            raise ValueError("wrong length")
        return [_cursor_value(key.lstrip("-"), value) for key, value in zip(ordering, decoded["v"], strict=True)]
    except (ValueError, TypeError, UnicodeDecodeError, binascii.Error):
        raise ValidationError(
            "Invalid cursor: follow the Link header's next URL, or pass a row offset.",
            fields={"cursor": ["Invalid."]},
        ) from None


def repo_list_after(queryset: QuerySet[Repo], ordering: tuple[str, ...], values: list) -> QuerySet[Repo]:
    """The rows of ``queryset`` (ordered by ``ordering``, every key descending) after the row
    whose sort values are ``values``: a keyset page, as cheap deep down the list as at its top
    (the first key's bound lets the sort's index start there instead of skipping rows)."""
    keys = [key.lstrip("-") for key in ordering]
    if any(not key.startswith("-") for key in ordering):
        raise ValueError("keyset pages need a descending order")
    after = Q()
    for index, key in enumerate(keys):
        term = Q(**{f"{key}__lt": values[index]})
        for previous in range(index):
            term &= Q(**{keys[previous]: values[previous]})
        after |= term
    return queryset.filter(Q(**{f"{keys[0]}__lte": values[0]}), after)


def repo_model_tree(*, user, repo: Repo, base_models: list[str]) -> dict[str, list[Repo]]:
    """The model tree around ``repo`` as its readers may see it: the repositories of the base
    models its card names (``base_models``) and the models whose cards name it as their base
    (their ``base_model:`` tags, derived from cards on commit), the 100 latest. One query for the
    parents; for the children one for up to ``CHILDREN_BY_ID`` of their ids, then one for them."""
    parents: list[Repo] = []
    if base_models:
        named = Q()
        for name in base_models:
            namespace, _, base = name.partition("/")
            named |= Q(namespace__name__iexact=namespace, name__iexact=base)
        found = Repo.objects.visible_to(user).filter(named, type=RepoType.MODEL).select_related("namespace")
        by_id = {r.repo_id.lower(): r for r in found}
        parents = [by_id[name.lower()] for name in base_models if name.lower() in by_id]
    named = _named_as_base(repo)
    few = list(named.values_list("repo_id", flat=True)[: CHILDREN_BY_ID + 1])
    children: list[Repo] = []
    if few:
        # Up to CHILDREN_BY_ID children: by their ids. Past it, the subquery, which PostgreSQL
        # answers by walking the models by recency until it has 100 of them: quick when children
        # are many, but a walk through every model when it wrongly expects many (its estimate
        # for a rare tag), hence the ids.
        candidates = few if len(few) <= CHILDREN_BY_ID else named
        visible = Repo.objects.visible_to(user).filter(type=RepoType.MODEL, pk__in=candidates)
        children = list(visible.select_related("namespace").order_by("-last_modified", "-id")[:100])
    return {"parents": parents, "children": children}


def repo_redirect_target(*, user, repo_type: RepoType, namespace: str, name: str) -> Repo | None:
    """The repository ``namespace/name`` was moved to (``RepoRedirect``), if ``user`` may see it."""
    return (
        Repo.objects.visible_to(user)
        .select_related("namespace")
        .filter(redirects__type=repo_type, redirects__namespace__iexact=namespace, redirects__name__iexact=name)
        .first()
    )


def _named_as_base(repo: Repo) -> QuerySet[RepoTag]:
    """The ids of the repositories whose cards name ``repo`` as their base (``base_model:`` tags)."""
    return RepoTag.objects.filter(tag__iexact=f"base_model:{repo.repo_id}").values("repo_id")


def repo_children_count(*, user, repo: Repo) -> int:
    """How many models ``user`` may see name ``repo`` as their base model (``childrenModelCount``).

    A semi-join (``IN``), not a join: no duplicates to remove, and PostgreSQL answers it from
    indexes alone (migration 0013): the tag's, then each child's visibility from the id index.
    """
    return Repo.objects.visible_to(user).filter(type=RepoType.MODEL, pk__in=_named_as_base(repo)).count()
