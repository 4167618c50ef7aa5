"""Listing and searching repositories, always through ``Repo.objects.visible_to``."""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection
from django.db.models import BooleanField, Expression, F, FloatField, Q, QuerySet, Subquery, Window
from django.db.models.expressions import RawSQL
from django.db.models.functions import RowNumber

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


class _InArray(Expression):
    """``column = ANY(ARRAY(subquery))``: unlike ``IN (subquery)``, PostgreSQL can answer it with
    an index scan inside an ``OR``, so a search's branches combine in one bitmap scan."""

    conditional = True

    def __init__(self, column: F, subquery: QuerySet):
        super().__init__(output_field=BooleanField())
        self.column, self.subquery = column, Subquery(subquery)

    def get_source_expressions(self):
        return [self.column, self.subquery]

    def set_source_expressions(self, expressions):
        self.column, self.subquery = expressions

    def as_sql(self, compiler, connection):
        column, column_params = compiler.compile(self.column)
        subquery, subquery_params = compiler.compile(self.subquery)
        return f"{column} = ANY(ARRAY{subquery})", (*column_params, *subquery_params)


def _search(queryset: QuerySet, query: str) -> QuerySet:
    words = _WORD.findall(query.lower())[:16]
    if not words:
        return queryset
    if connection.vendor == "postgresql":
        from django.contrib.postgres.search import SearchQuery, SearchRank

        vector = _StoredSearchVector()
        tsquery = SearchQuery(" & ".join(f"{word}:*" for word in words), search_type="raw", config="simple")
        name_match = Q()
        for word in words:
            owners = Namespace.objects.filter(name__icontains=word).values("id")
            name_match &= Q(name__icontains=word) | Q(_InArray(F("namespace_id"), owners))
        # Match with @@ (a rank alone is positive for partial matches too), rank to order.
        matched = queryset.alias(search_vector=vector).annotate(search_rank=SearchRank(vector, tsquery))
        return matched.filter(Q(search_vector=tsquery) | name_match)
    # SQLite: every word must occur somewhere in the indexed text (which includes the names).
    for word in words:
        queryset = queryset.filter(search_document__icontains=word)
    return queryset


def repo_ordering(filters: RepoFilters) -> tuple[str, ...]:
    """The order ``repo_list`` gives ``filters``: every key descending, ``id`` last (unique)."""
    sort = sort_parse(filters.sort)
    if sort is not None:
        return (SORT_FIELDS[sort], "-id")
    if filters.search and connection.vendor == "postgresql":
        return ("-search_rank", "-trending_score", "-id")
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
        queryset = _search(queryset, filters.search)
    return queryset.order_by(*repo_ordering(filters))


def repo_search_by_type(*, user, query: str, limit: int) -> dict[RepoType, list[Repo]]:
    """The first ``limit`` matches of ``query`` of each repository type that ``user`` may see, in
    the listings' order (``repo_list``): one search numbering each type's matches (a window
    function), not one search a type — each reads every match to rank it — then the rows."""
    ordering = repo_ordering(RepoFilters(repo_type=RepoType.MODEL, search=query))
    matched = _search(Repo.objects.visible_to(user), query)
    place = Window(RowNumber(), partition_by=[F("type")], order_by=[F(key.lstrip("-")).desc() for key in ordering])
    ranked = list(matched.annotate(place=place).filter(place__lte=limit).values_list("pk", "type", "place"))
    rows = Repo.objects.select_related("namespace").in_bulk([pk for pk, _type, _place in ranked])
    found: dict[RepoType, list[Repo]] = {repo_type: [] for repo_type in RepoType}
    for pk, repo_type, _place in sorted(ranked, key=lambda row: row[2]):
        if pk in rows:  # deleted in between
            found[RepoType(repo_type)].append(rows[pk])
    return found


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
_CURSOR_FLOATS = {"trending_score", "search_rank"}


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


def _key_value(key: str, value):
    # ``ts_rank`` is a ``real``: compare in ``real`` so the value read back matches exactly.
    return RawSQL("%s::real", (repr(value),), output_field=FloatField()) if key == "search_rank" else value


def repo_list_after(queryset: QuerySet[Repo], ordering: tuple[str, ...], values: list) -> QuerySet[Repo]:
    """The rows of ``queryset`` (ordered by ``ordering``, every key descending) after the row
    whose sort values are ``values``: a keyset page, as cheap deep down the list as at its top
    (the first key's bound lets the sort's index start there instead of skipping rows)."""
    keys = [key.lstrip("-") for key in ordering]
    if any(not key.startswith("-") for key in ordering):
        raise ValueError("keyset pages need a descending order")
    after = Q()
    for index, key in enumerate(keys):
        term = Q(**{f"{key}__lt": _key_value(key, values[index])})
        for previous in range(index):
            term &= Q(**{keys[previous]: _key_value(keys[previous], values[previous])})
        after |= term
    return queryset.filter(Q(**{f"{keys[0]}__lte": _key_value(keys[0], values[0])}), after)


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
