"""Ranks with intervals: how sure a leaderboard can be of each model's place.

Every model was scored on the same items, so the bootstrap is paired: each replicate resamples
the items of every task once (the same indices for every model), recomputes each model's
aggregate, and ranks the models. A model's rank interval is the 2.5–97.5 % range of its ranks
over the replicates; its score interval the same range of its scores. Models whose score
intervals overlap cannot be told apart: ``tied_ranks`` gives them the same displayed rank.

Item values follow the harness (``metrics.py``): a float per item for mean metrics (acc, …), a
``(log-likelihood, weight)`` pair for the ratio metrics (bits_per_byte, byte/word perplexity).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from evals.harness.metrics import MEAN_METRICS, _ratio

DEFAULT_ITERS = 1000


@dataclass(frozen=True)
class Placing:
    score: float
    score_ci95: tuple[float, float]
    rank_ci95: tuple[int, int]


def _task_statistic(metric: str, values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """The task aggregate under each replicate's item weights: values (M, n) or (M, n, 2),
    weights (B, n) multinomial counts → (M, B)."""
    if metric in MEAN_METRICS:
        return values @ weights.T / weights.sum(axis=1)
    if metric == "perplexity":
        return np.exp(-(values @ weights.T) / weights.sum(axis=1))
    ll = values[..., 0] @ weights.T
    weight = values[..., 1] @ weights.T
    return _ratio(metric, ll, weight)


def _point(metric: str, values: np.ndarray) -> np.ndarray:
    ones = np.ones((1, values.shape[1]))
    return _task_statistic(metric, values, ones)[:, 0]


def placings(
    models: Sequence[Mapping[str, Sequence]],
    *,
    metric: str,
    higher_is_better: bool,
    method: str = "mean",
    seed: int = 0,
    iters: int = DEFAULT_ITERS,
) -> list[Placing]:
    """Score, score interval and rank interval of each model, from its per-item values by task.

    Every model must have the same tasks with the same number of items, in the same order.
    ``method`` combines tasks as a suite aggregate does (``mean`` or ``weighted_mean`` by items).
    """
    if not models:
        return []
    tasks = list(models[0])
    for model in models:
        if list(model) != tasks or any(len(model[t]) != len(models[0][t]) for t in tasks):
            raise ValueError("every model must have the same tasks and items")
    sizes = [len(models[0][t]) for t in tasks]
    task_weights = np.array([1.0 / len(tasks)] * len(tasks) if method == "mean" else [n / sum(sizes) for n in sizes])
    rng = np.random.Generator(np.random.PCG64(seed))
    scores = np.zeros((len(models), iters))
    points = np.zeros(len(models))
    for task, size, task_weight in zip(tasks, sizes, task_weights, strict=True):
        values = np.asarray([model[task] for model in models], dtype=np.float64)
        counts = rng.multinomial(size, [1.0 / size] * size, size=iters).astype(np.float64)  # (B, n)
        scores += task_weight * _task_statistic(metric, values, counts)
        points += task_weight * _point(metric, values)
    ordered = -scores if higher_is_better else scores
    ranks = _ranks(ordered)
    out = []
    for index in range(len(models)):
        low, high = np.quantile(scores[index], [0.025, 0.975])
        rank_low, rank_high = np.quantile(ranks[index], [0.025, 0.975])
        rank_ci95 = (math.floor(rank_low), math.ceil(rank_high))
        out.append(Placing(float(points[index]), (float(low), float(high)), rank_ci95))
    return out


def _ranks(ordered: np.ndarray) -> np.ndarray:
    """Each model's rank in each replicate (column): 1 + the models strictly better (smaller
    ``ordered`` values); ties share the better rank."""
    ranks = np.empty_like(ordered, dtype=np.int64)
    for column in range(ordered.shape[1]):
        values = ordered[:, column]
        sorted_values = np.sort(values)
        ranks[:, column] = np.searchsorted(sorted_values, values, side="left") + 1
    return ranks


def tied_ranks(placings_: Sequence[Placing], *, higher_is_better: bool) -> list[int]:
    """Displayed ranks: 1 + the number of models whose whole score interval is better than this
    model's whole interval. Models that noise cannot separate share a rank."""
    out = []
    for placing in placings_:
        low, high = placing.score_ci95
        if higher_is_better:
            better = sum(1 for other in placings_ if other.score_ci95[0] > high)
        else:
            better = sum(1 for other in placings_ if other.score_ci95[1] < low)
        out.append(better + 1)
    return out
