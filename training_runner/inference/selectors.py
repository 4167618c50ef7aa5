"""Reads of the inference app: which model (and commit) a request runs, which models serve, the
arena's battles, board and vote log."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.conf import settings
from django.db.models import QuerySet

from registry.access import access_repo, check_can_read_files
from registry.choices import GatedMode, RepoType
from registry.models import Repo
from registry.selectors.revisions import revision_resolve
from training_runner.inference.choices import Pipeline
from training_runner.inference.engine import model_key
from training_runner.inference.errors import BattleNotFound, InferenceDisabled, UnsupportedPipeline
from training_runner.inference.models import ArenaRating, Battle, Playground, Vote

SERVED = ", ".join(p.value for p in Pipeline)


@dataclass(frozen=True)
class InferenceTarget:
    """A model the caller may run, at one commit, with the pipeline its card declares."""

    repo: Repo
    commit_oid: str
    pipeline: Pipeline

    @property
    def key(self) -> str:
        return model_key(repo=self.repo, commit_oid=self.commit_oid)


def pipeline_of(repo: Repo) -> Pipeline | None:
    return Pipeline(repo.pipeline_tag) if repo.pipeline_tag in Pipeline.values else None


def check_pipeline(repo: Repo) -> Pipeline:
    pipeline = pipeline_of(repo)
    if pipeline is None:
        tag = repo.pipeline_tag or "none"
        raise UnsupportedPipeline(
            f"{repo.repo_id} declares pipeline_tag '{tag}'; the inference engine serves {SERVED}.",
            fields={"model": [f"unsupported pipeline '{tag}'"]},
        )
    return pipeline


def playground_enabled(*, repo: Repo) -> bool:
    return Playground.objects.filter(repo=repo, enabled=True).exists()


def inference_target(*, user, namespace: str, name: str, revision: str | None = None) -> InferenceTarget:
    """The model ``namespace/name`` at ``revision`` (default branch) if ``user`` may run it.

    404 for a model the caller cannot see, 403 for gated files the caller may not read or a model
    whose inference is off, 400 for a pipeline the engine does not serve.
    """
    repo = access_repo(user=user, repo_type=RepoType.MODEL, namespace=namespace, name=name)
    check_can_read_files(user=user, repo=repo)
    pipeline = check_pipeline(repo)
    if not playground_enabled(repo=repo):
        raise InferenceDisabled(
            f"Inference is off for {repo.repo_id}; its admins can turn it on in the Playground tab."
        )
    return InferenceTarget(repo=repo, commit_oid=revision_resolve(repo=repo, revision=revision).oid, pipeline=pipeline)


def inference_models(*, user, pipeline: Pipeline | None = None) -> QuerySet[Repo]:
    """Models the user can see whose inference is on (for ``/v1/models``)."""
    repos = Repo.objects.visible_to(user).filter(type=RepoType.MODEL, playground__enabled=True)
    repos = repos.filter(pipeline_tag=pipeline) if pipeline else repos.filter(pipeline_tag__in=Pipeline.values)
    return repos.select_related("namespace").order_by("namespace__name", "name")


# --------------------------------------------------------------------------------------- arena


def arena_models() -> list[Repo]:
    """Contestants: public, ungated text-generation models with inference on."""
    return list(
        Repo.objects.filter(
            type=RepoType.MODEL, private=False, gated=GatedMode.OFF, disabled=False,
            pipeline_tag=Pipeline.TEXT_GENERATION, playground__enabled=True,
        ).select_related("namespace").order_by("pk")
    )  # fmt: skip


def battle_get(*, user, battle_id) -> Battle:
    """The caller's own battle (anyone else's is not found)."""
    battle = Battle.objects.filter(pk=battle_id, user=user).select_related("model_a__namespace", "model_b__namespace")
    found = battle.first() if user.is_authenticated else None
    if found is None:
        raise BattleNotFound()
    return found


def pair_vote_counts(*, user) -> dict[tuple[int, int], int]:
    """Counted votes of ``user`` per pair (low pk, high pk)."""
    counts: dict[tuple[int, int], int] = {}
    rows = Vote.objects.filter(user=user, counted=True).values_list("pair_low_id", "pair_high_id")
    for pair in rows:
        counts[pair] = counts.get(pair, 0) + 1
    return counts


@dataclass(frozen=True)
class BoardRow:
    rank: int
    repo: Repo
    rating: float
    lower: float
    upper: float
    battles: int


def arena_board() -> list[BoardRow]:
    """Rated models, best first; rank counts the models whose interval lies wholly above."""
    ratings = list(ArenaRating.objects.select_related("repo__namespace").order_by("-rating"))
    return [
        BoardRow(
            rank=1 + sum(other.lower > r.upper for other in ratings), repo=r.repo, rating=r.rating,
            lower=r.lower, upper=r.upper, battles=r.battles,
        )
        for r in ratings
    ]  # fmt: skip


def arena_ratings_for(*, repos: Iterable[Repo]) -> dict[int, ArenaRating]:
    """Ratings by repository pk, for a leaderboard's arena column (absent: not rated yet)."""
    return {r.repo_id: r for r in ArenaRating.objects.filter(repo__in=list(repos))}


def counted_battles() -> list[tuple[int, int, str]]:
    """(model_a pk, model_b pk, outcome) of every counted vote."""
    return list(Vote.objects.filter(counted=True).values_list("battle__model_a_id", "battle__model_b_id", "outcome"))


def _pseudonym(user_id: int) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), f"arena-voter:{user_id}".encode(), hashlib.sha256).hexdigest()[:16]


VOTE_LOG_COLUMNS = ("battle", "day", "voter", "model_a", "model_b", "outcome", "counted")


def vote_log() -> Iterator[tuple]:
    """The anonymised vote log: no prompts and no user names, voters as stable pseudonyms."""
    votes = Vote.objects.select_related("battle__model_a__namespace", "battle__model_b__namespace").order_by(
        "created_at", "pk"
    )
    for vote in votes.iterator(chunk_size=500):
        battle = vote.battle
        yield (
            str(battle.pk), vote.created_at.date().isoformat(), _pseudonym(vote.user_id), battle.model_a.repo_id,
            battle.model_b.repo_id, vote.outcome, vote.counted,
        )  # fmt: skip
