"""Reading leaderboards: boards, their ranked entries (only models the visitor may see), the
submission queue, a model's positions, and item-by-item comparisons of two entries."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, F, OuterRef, Q, QuerySet

from common.errors import NotFound, ValidationError
from evals.harness.metrics import paired_bootstrap
from evals.leaderboards.choices import EntrySource, EntryState
from evals.leaderboards.models import Entry, Leaderboard
from registry.models import Repo
from training_runner.inference.models import ArenaRating
from training_runner.jobs.models import EvalSample

QUEUE_LENGTH = 50
# What the board page's queue shows of a submission.
QUEUE_FIELDS = (
    "pk",
    "model_repo_id",
    "model_repo_name",
    "model_commit",
    "pull_request",
    "run_id",
    "state",
    "source",
    "reason",
    "created_at",
    "submitter__username",
)


def leaderboard_list() -> QuerySet[Leaderboard]:
    return Leaderboard.objects.select_related("namespace").order_by("namespace__name", "name")


def leaderboard_get(*, namespace: str, name: str) -> Leaderboard:
    board = (
        Leaderboard.objects.select_related("namespace", "suite_repo__namespace")
        .filter(namespace__name__iexact=namespace, name__iexact=name)
        .first()
    )
    if board is None:
        raise NotFound(f"Leaderboard {namespace}/{name} not found.")
    return board


@dataclass(frozen=True)
class EntryFilters:
    max_parameters: int | None = None
    license: str = ""
    architecture: str = ""
    base_model: str = ""
    hide_flagged: bool = False
    sort: str = ""  # a column key, or "" for rank
    descending: bool = True


def _visible_models(user) -> QuerySet[Repo]:
    return Repo.objects.visible_to(user).values("pk")


def _board_entries(*, board: Leaderboard, filters: EntryFilters) -> QuerySet[Entry]:
    """The current, finished entry of each model on the board, ranked (or sorted by a column),
    whoever may see the models."""
    entries = Entry.objects.filter(board=board, current=True, state=EntryState.FINISHED)
    if filters.max_parameters is not None:
        entries = entries.filter(parameters__lte=filters.max_parameters)
    for field in ("license", "architecture", "base_model"):
        value = getattr(filters, field)
        if value:
            entries = entries.filter(**{f"{field}__iexact": value})
    if filters.hide_flagged:
        entries = entries.filter(flagged=False).filter(Q(contamination__isnull=True) | Q(contamination__items=0))
    entries = entries.defer("item_values")
    if filters.sort:
        keys = [c for c in board.columns if f"{c['task']}:{c['metric']}" == filters.sort]
        if not keys:
            raise ValidationError(f"Unknown column {filters.sort!r}.", fields={"sort": ["Unknown column."]})
        value = F(f"scores__{filters.sort}__value")
        order = value.desc(nulls_last=True) if filters.descending else value.asc(nulls_last=True)
        return entries.order_by(order, "id")
    return entries.order_by(F("rank").asc(nulls_last=True), F("primary").desc(nulls_last=True), "id")


def board_entries(*, board: Leaderboard, user, filters: EntryFilters = EntryFilters()) -> QuerySet[Entry]:
    """The current, finished entry of each model the visitor may see, ranked (or sorted by a column)."""
    return _board_entries(board=board, filters=filters).filter(model_repo__in=_visible_models(user))


def board_entry_keys(*, board: Leaderboard, filters: EntryFilters = EntryFilters()) -> list[tuple[int, int]]:
    """``(entry pk, model repository pk)`` of every entry ``board_entries`` lists for a visitor who
    may see every model, in its order. The same for every visitor until the board changes, so the
    board page keeps them in the cache under the board's ``version`` and drops the models
    ``board_hidden_repos`` names for each visitor."""
    entries = _board_entries(board=board, filters=filters).filter(model_repo__isnull=False)
    return list(entries.values_list("pk", "model_repo_id"))


@dataclass(frozen=True)
class BoardVisitor:
    """What the board page reads for each visitor at every request, so that it can share all else
    with every visitor until the board changes."""

    hidden: frozenset[int]  # models with entries on the board the visitor may not see (usually none)
    ratings: dict[int, ArenaRating]  # arena ratings of the models on the board, by repository pk


def board_visitor(*, board: Leaderboard, user) -> BoardVisitor:
    """The models on the board ``user`` may not see, and the arena ratings of those they may, in one
    query. Neither moves the board's version (a model made private, a new rating), so the page
    reads them each time and drops the hidden models from the keys and the queue it caches."""
    on_board = Entry.objects.filter(board=board, model_repo__isnull=False).values("model_repo_id")
    rows = (
        Repo.objects.filter(pk__in=on_board)
        .annotate(visible=Exists(_visible_models(user).filter(pk=OuterRef("pk"))))
        .filter(Q(visible=False) | Q(arena_rating__isnull=False))
        .values_list("pk", "visible", "arena_rating__rating", "arena_rating__lower", "arena_rating__upper")
    )
    hidden, ratings = set(), {}
    for pk, visible, rating, lower, upper in rows:
        if not visible:
            hidden.add(pk)
        elif rating is not None:
            ratings[pk] = ArenaRating(repo_id=pk, rating=rating, lower=lower, upper=upper)
    return BoardVisitor(hidden=frozenset(hidden), ratings=ratings)


def board_entries_in_order(*, board: Leaderboard, pks: list[int]) -> list[Entry]:
    """The board's entries ``pks``, in that order, with what the board's table shows."""
    found = Entry.objects.filter(board=board, pk__in=pks).defer("item_values", "delta", "reason")
    by_pk = {entry.pk: entry for entry in found}
    return [by_pk[pk] for pk in pks if pk in by_pk]


def board_queue(*, board: Leaderboard, user) -> list[Entry]:
    """The latest submissions in every state, rejected ones with their reasons."""
    entries = (
        Entry.objects.filter(board=board, model_repo__in=_visible_models(user))
        .select_related("submitter")
        .order_by("-created_at", "-id")
        .defer("item_values")
    )
    return list(entries[:QUEUE_LENGTH])


def board_queue_rows(*, board: Leaderboard, limit: int, user=None) -> list[dict[str, Any]]:
    """The latest ``limit`` submissions as the board page's queue shows them (no scores), newest
    first: of the models ``user`` may see, or without ``user`` of every model (the page keeps
    those in the cache for every visitor and drops the ones ``board_hidden_repos`` names)."""
    entries = Entry.objects.filter(board=board, model_repo__isnull=False)
    if user is not None:
        entries = entries.filter(model_repo__in=_visible_models(user))
    states, sources = dict(EntryState.choices), dict(EntrySource.choices)
    rows = entries.order_by("-created_at", "-id").values(*QUEUE_FIELDS)[:limit]
    return [
        {
            **row,
            "state_label": str(states.get(row["state"], row["state"])),
            "source_label": str(sources.get(row["source"], row["source"])),
        }
        for row in rows
    ]


def entry_get(*, board: Leaderboard, entry_id: int, user) -> Entry:
    entry = (
        Entry.objects.filter(board=board, pk=entry_id, model_repo__in=_visible_models(user))
        .select_related("board__namespace", "model_repo__namespace", "run")
        .first()
    )
    if entry is None:
        raise NotFound(f"Entry {entry_id} is not on {board.board_id}.")
    return entry


def repo_positions(*, repo: Repo) -> list[Entry]:
    """Where a model stands: its current entry on every board."""
    return list(
        Entry.objects.filter(model_repo=repo, current=True, state=EntryState.FINISHED)
        .select_related("board__namespace")
        .defer("item_values")
        .order_by("board__namespace__name", "board__name")
    )


def _records(run_id: int) -> dict[tuple[str, str], dict[str, Any]]:
    """A run's per-item records by (task, item id), in the order the harness scored them."""
    rows = (
        EvalSample.objects.filter(run_id=run_id).order_by("task", "position").values_list("task", "item_id", "record")
    )
    return {(task, item): record for task, item, record in rows}


def paired_deltas(*, run_a_id: int, run_b_id: int) -> list[dict[str, Any]]:
    """Per task and metric, A minus B with a paired bootstrap interval over the items both scored."""
    a, b = _records(run_a_id), _records(run_b_id)
    paired: dict[tuple[str, str], list[tuple[Any, Any]]] = defaultdict(list)
    for key, record in b.items():
        other = a.get(key)
        if other is not None:
            for metric, value in record["metrics"].items():
                paired[(key[0], metric)].append((other["metrics"][metric], value))
    rows = []
    for (task, metric), pairs in sorted(paired.items()):
        comparison = paired_bootstrap(metric, [x for x, _ in pairs], [y for _, y in pairs], seed=0, iters=2000)
        rows.append(
            {
                "task": task,
                "metric": metric,
                "delta": comparison.delta,
                "ci95": list(comparison.ci95),
                "p_value": comparison.p_value,
                "n": comparison.n,
            }
        )
    return rows


def _prediction(record: dict[str, Any]) -> int | None:
    logprobs = [r.get("logprob") for r in record.get("responses", [])]
    if len(logprobs) < 2 or any(not isinstance(x, float) for x in logprobs):
        return None
    return max(range(len(logprobs)), key=lambda j: (logprobs[j], -j))


def entries_disagreements(*, a: Entry, b: Entry, task: str = "", limit: int = 200) -> list[dict[str, Any]]:
    """The multiple-choice items where A and B predict different answers, with both predictions."""
    records_a, records_b = _records(a.run_id), _records(b.run_id)
    out = []
    for key in records_a:
        if task and key[0] != task:
            continue
        other = records_b.get(key)
        if other is None:
            continue
        pred_a, pred_b = _prediction(records_a[key]), _prediction(other)
        if pred_a is None or pred_a == pred_b:
            continue
        record = records_a[key]
        out.append(
            {
                "task": key[0],
                "item_id": record["item_id"],
                "prompt": record["prompt"],
                "choices": [r.get("continuation") for r in record["requests"]],
                "gold": record.get("target"),
                "a": pred_a,
                "b": pred_b,
            }
        )
        if len(out) == limit:
            break
    return out
