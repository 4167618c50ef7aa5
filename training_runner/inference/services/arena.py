"""The arena: battles between two anonymous models, one vote each, Bradley–Terry ratings."""

from __future__ import annotations

import random
from collections.abc import Iterator

from django.conf import settings
from django.db import IntegrityError, transaction

from common.errors import Conflict, Unauthenticated, ValidationError
from registry.selectors.revisions import revision_resolve
from training_runner.engine.errors import EngineError
from training_runner.engine.params import check_text
from training_runner.inference.choices import BattleSide, Pipeline, VoteOutcome
from training_runner.inference.errors import ArenaUnavailable, BattleNotReady, hub_error
from training_runner.inference.models import ArenaRating, Battle, Vote
from training_runner.inference.selectors import (
    InferenceTarget,
    arena_models,
    battle_get,
    counted_battles,
    pair_vote_counts,
)
from training_runner.inference.services.completions import completion_stream, generate_params

# How the contestants answer: the same sampling for both, so only the models differ.
ARENA_SAMPLING = {"max_new_tokens": 96, "temperature": 0.7, "top_p": 0.95, "repetition_penalty": 1.1}
SCORES = {VoteOutcome.A: 1.0, VoteOutcome.B: 0.0, VoteOutcome.TIE: 0.5, VoteOutcome.BOTH_BAD: 0.5}


def _pair(a: int, b: int) -> tuple[int, int]:
    return (a, b) if a < b else (b, a)


def battle_create(*, user, prompt: str, rng: random.Random | None = None) -> Battle:
    """Seat two different contestants, in random order, for ``prompt``.

    Pairs on which the user has used up the vote cap are not drawn, so every battle can count.
    """
    if not user.is_authenticated:
        raise Unauthenticated("Sign in to battle in the arena.")
    try:
        prompt = check_text("prompt", prompt)
    except EngineError as error:
        raise hub_error(error) from None
    models = arena_models()
    if len(models) < 2:
        raise ArenaUnavailable("The arena needs two text-generation models with inference on.")
    cap = settings.HUB_ARENA_PAIR_VOTE_CAP
    used = pair_vote_counts(user=user)
    pairs = [(a, b) for i, a in enumerate(models) for b in models[i + 1 :] if used.get(_pair(a.pk, b.pk), 0) < cap]
    if not pairs:
        raise ArenaUnavailable(f"You have voted {cap} times on every pair of models; thank you!")
    rng = rng or random.SystemRandom()
    first, second = rng.choice(pairs)
    if rng.random() < 0.5:
        first, second = second, first
    commit_a, commit_b = (revision_resolve(repo=repo, revision=None).oid for repo in (first, second))
    return Battle.objects.create(
        user=user, prompt=prompt, model_a=first, model_b=second, commit_a=commit_a, commit_b=commit_b
    )


def battle_answer_stream(*, user, battle_id, side: BattleSide) -> Iterator[str]:
    """Text deltas of one side's answer; generated once, then replayed from the battle."""
    if side not in BattleSide.values:
        raise ValidationError("side must be a or b.", fields={"side": ["a or b"]})
    battle = battle_get(user=user, battle_id=battle_id)
    side = BattleSide(side)
    done, answer = (battle.done_a, battle.answer_a) if side == BattleSide.A else (battle.done_b, battle.answer_b)
    if done:
        yield answer
        return
    repo, commit = (battle.model_a, battle.commit_a) if side == BattleSide.A else (battle.model_b, battle.commit_b)
    target = InferenceTarget(repo=repo, commit_oid=commit, pipeline=Pipeline.TEXT_GENERATION)
    params = generate_params(prompt=battle.prompt, sampling=ARENA_SAMPLING)
    for event in completion_stream(target=target, params=params):
        if event["type"] == "text":
            yield _storable(event["text"])
        elif event["type"] == "end":
            battle_answer_save(battle=battle, side=side, text=event["text"])


def _storable(text: str) -> str:
    """A byte-level model can emit NUL, which PostgreSQL text cannot hold: shown and stored as U+FFFD."""
    return text.replace("\x00", "\ufffd")


def battle_answer_save(*, battle: Battle, side: BattleSide, text: str) -> None:
    """Record one side's finished answer (an update of its two columns only: the other side's
    stream may finish at the same moment)."""
    side = BattleSide(side)
    text = _storable(text)
    Battle.objects.filter(pk=battle.pk).update(**{f"answer_{side.value}": text, f"done_{side.value}": True})


def vote_cast(*, user, battle_id, outcome: VoteOutcome | str) -> Vote:
    """The battle's one vote; it counts unless the user reached the cap on this pair.

    Ratings are recomputed by a task once the vote is committed.
    """
    from training_runner.inference.tasks import arena_ratings_recompute

    battle = battle_get(user=user, battle_id=battle_id)
    if outcome not in VoteOutcome.values:
        allowed = ", ".join(VoteOutcome.values)
        raise ValidationError(f"outcome must be one of {allowed}.", fields={"outcome": [f"one of {allowed}"]})
    if not (battle.done_a and battle.done_b):
        raise BattleNotReady("Wait for both answers before voting.")
    low, high = _pair(battle.model_a_id, battle.model_b_id)
    used = Vote.objects.filter(user=user, pair_low_id=low, pair_high_id=high, counted=True).count()
    try:
        with transaction.atomic():
            vote = Vote.objects.create(
                battle=battle, user=user, pair_low_id=low, pair_high_id=high, outcome=outcome,
                counted=used < settings.HUB_ARENA_PAIR_VOTE_CAP,
            )  # fmt: skip
    except IntegrityError:
        raise Conflict("This battle already has its vote.") from None
    if vote.counted:
        arena_ratings_recompute.delay_on_commit()
    return vote


def arena_ratings_recompute(*, rounds: int | None = None, seed: int = 0) -> int:
    """Refit every rating from the counted votes; returns how many models are rated.

    Runs in a worker (the task of ``vote_cast``): the fit imports PyTorch, which the web processes
    never load."""
    from training_runner.inference import bradley_terry

    battles = counted_battles()
    repo_ids = sorted({pk for a, b, _ in battles for pk in (a, b)})
    index = {pk: i for i, pk in enumerate(repo_ids)}
    fitted = bradley_terry.bradley_terry(
        [(index[a], index[b], SCORES[VoteOutcome(outcome)]) for a, b, outcome in battles],
        models=len(repo_ids), rounds=rounds or settings.HUB_ARENA_BOOTSTRAP_ROUNDS, seed=seed,
    )  # fmt: skip
    with transaction.atomic():
        ArenaRating.objects.exclude(repo_id__in=repo_ids).delete()
        for rating in fitted:
            ArenaRating.objects.update_or_create(
                repo_id=repo_ids[rating.index],
                defaults={
                    "rating": rating.rating,
                    "lower": rating.lower,
                    "upper": rating.upper,
                    "battles": rating.battles,
                },
            )
    return len(fitted)
