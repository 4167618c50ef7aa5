"""Metrics: per-item values, aggregation, standard errors, 95 % intervals and paired bootstrap.

Per item (``ll`` = summed log-probability in nats):

- ``acc`` / ``acc_norm``: 1 if the gold choice has the highest ``ll`` / ``ll`` per character of
  the choice (ties go to the first choice); for ``loglikelihood`` tasks ``acc`` is 1 if the target
  is the greedy continuation.
- ``exact_match``: 1 if the filtered generation equals the target.
- ``word_perplexity`` / ``byte_perplexity`` / ``bits_per_byte``: the pair (``ll``, words or UTF-8
  bytes of the document); ``perplexity``: ``ll``.

Aggregates: the mean for 0/1 metrics, with standard error ``sample std / sqrt(n)`` and the normal
95 % interval; ``exp(-Σll/ΣW)``, ``exp(-Σll/ΣB)``, ``-Σll/(ΣB ln 2)`` and ``exp(-mean ll)`` for the
others, with a seeded bootstrap over items for the standard error and the percentile interval.
"""

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from statistics import NormalDist
from typing import Any

import numpy as np

MEAN_METRICS = frozenset({"acc", "acc_norm", "exact_match"})
RATIO_METRICS = frozenset({"word_perplexity", "byte_perplexity", "bits_per_byte"})
HIGHER_IS_BETTER = {
    "acc": True,
    "acc_norm": True,
    "exact_match": True,
    "perplexity": False,
    "word_perplexity": False,
    "byte_perplexity": False,
    "bits_per_byte": False,
}
Z95 = NormalDist().inv_cdf(0.975)
_BOOTSTRAP_CHUNK = 200

# A per-item value: a number, or [ll, weight] for the ratio metrics.
ItemValue = float | list[float]


@dataclass(frozen=True)
class MetricSummary:
    """An aggregate with its standard error and 95 % interval (``None`` when n is too small)."""

    value: float
    stderr: float | None
    ci95: tuple[float, float] | None
    n: int

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["ci95"] = list(self.ci95) if self.ci95 is not None else None
        return data


@dataclass(frozen=True)
class PairedComparison:
    """Run A minus run B on the items both scored: difference, 95 % interval, two-sided p."""

    metric: str
    delta: float
    ci95: tuple[float, float]
    p_value: float
    n: int
    iters: int


def multiple_choice_item(lls: Sequence[float], choices: Sequence[str], gold: int) -> dict[str, float]:
    """acc and acc_norm for one item (normalised by choice length in characters)."""
    pred = _argmax(lls)
    pred_norm = _argmax([ll / len(choice) for ll, choice in zip(lls, choices, strict=True)])
    return {"acc": float(pred == gold), "acc_norm": float(pred_norm == gold)}


def rolling_item(ll: float, text: str) -> dict[str, list[float]]:
    """The (ll, weight) pairs of the three perplexity-style metrics for one document."""
    words = float(len(text.split()))
    n_bytes = float(len(text.encode("utf-8")))
    return {"word_perplexity": [ll, words], "byte_perplexity": [ll, n_bytes], "bits_per_byte": [ll, n_bytes]}


def _argmax(values: Sequence[float]) -> int:
    best = 0
    for index, value in enumerate(values):
        if value > values[best]:
            best = index
    return best


def aggregate(metric: str, values: Sequence[ItemValue]) -> float:
    if not values:
        raise ValueError(f"no values to aggregate for {metric}")
    if metric in MEAN_METRICS:
        return math.fsum(values) / len(values)  # type: ignore[arg-type]
    if metric == "perplexity":
        return math.exp(-math.fsum(values) / len(values))  # type: ignore[arg-type]
    lls, weights = zip(*values, strict=True)  # type: ignore[misc]
    return _ratio(metric, math.fsum(lls), math.fsum(weights))


def _ratio(metric: str, ll_sum: Any, weight_sum: Any) -> Any:
    """The ratio metrics from Σll and Σweight (floats or numpy arrays of bootstrap sums)."""
    if metric == "bits_per_byte":
        return -ll_sum / (weight_sum * math.log(2))
    return np.exp(-ll_sum / weight_sum) if isinstance(ll_sum, np.ndarray) else math.exp(-ll_sum / weight_sum)


def summarize(metric: str, values: Sequence[ItemValue], *, seed: int, bootstrap_iters: int) -> MetricSummary:
    """Aggregate plus uncertainty; the bootstrap (non-mean metrics) is seeded by ``seed``."""
    value = aggregate(metric, values)
    n = len(values)
    if n < 2:
        return MetricSummary(value, None, None, n)
    if metric in MEAN_METRICS:
        array = np.asarray(values, dtype=np.float64)
        stderr = float(array.std(ddof=1) / math.sqrt(n))
        return MetricSummary(value, stderr, _normal_interval(value, stderr, proportion=True), n)
    if bootstrap_iters < 2:
        return MetricSummary(value, None, None, n)
    replicates = _bootstrap(metric, [values], seed=seed, iters=bootstrap_iters)[0]
    low, high = np.quantile(replicates, [0.025, 0.975])
    return MetricSummary(value, float(replicates.std(ddof=1)), (float(low), float(high)), n)


def paired_bootstrap(
    metric: str, values_a: Sequence[ItemValue], values_b: Sequence[ItemValue], *, seed: int, iters: int
) -> PairedComparison:
    """Paired bootstrap of A − B: both runs are resampled with the same item indices.

    ``values_a[i]`` and ``values_b[i]`` must belong to the same item. The p-value is twice the
    smaller tail of the bootstrap differences around zero (capped at 1).
    """
    if len(values_a) != len(values_b) or not values_a:
        raise ValueError("paired bootstrap needs two non-empty, aligned lists of item values")
    delta = aggregate(metric, values_a) - aggregate(metric, values_b)
    rep_a, rep_b = _bootstrap(metric, [values_a, values_b], seed=seed, iters=iters)
    diffs = rep_a - rep_b
    low, high = np.quantile(diffs, [0.025, 0.975])
    p_value = min(1.0, 2.0 * min(float(np.mean(diffs <= 0)), float(np.mean(diffs >= 0))))
    return PairedComparison(metric, delta, (float(low), float(high)), p_value, len(values_a), iters)


def _bootstrap(metric: str, runs: Sequence[Sequence[ItemValue]], *, seed: int, iters: int) -> list[np.ndarray]:
    """Bootstrap replicates of the aggregate for each run, sharing the resampled indices."""
    n = len(runs[0])
    rng = np.random.Generator(np.random.PCG64(seed))
    arrays = [np.asarray(values, dtype=np.float64) for values in runs]
    out: list[list[np.ndarray]] = [[] for _ in runs]
    done = 0
    while done < iters:
        size = min(_BOOTSTRAP_CHUNK, iters - done)
        index = rng.integers(0, n, size=(size, n))
        for array, chunks in zip(arrays, out, strict=True):
            chunks.append(_aggregate_rows(metric, array[index]))
        done += size
    return [np.concatenate(chunks) for chunks in out]


def _aggregate_rows(metric: str, sample: np.ndarray) -> np.ndarray:
    """Aggregate each resample: ``sample`` is (iters, n) or (iters, n, 2) for ratio metrics."""
    if metric in MEAN_METRICS:
        return sample.mean(axis=1)
    if metric == "perplexity":
        return np.exp(-sample.mean(axis=1))
    sums = sample.sum(axis=1)
    return _ratio(metric, sums[:, 0], sums[:, 1])


def combine(metric: str, method: str, summaries: Sequence[MetricSummary]) -> MetricSummary:
    """A suite aggregate of ``metric`` over tasks: ``mean`` (each task once) or ``weighted_mean`` (by n).

    The standard error treats tasks as independent: sqrt(Σ w_i² se_i²) with weights summing to 1;
    it is ``None`` if any task has none.
    """
    if not summaries:
        raise ValueError("no task summaries to combine")
    if method == "mean":
        weights = [1.0 / len(summaries)] * len(summaries)
    elif method == "weighted_mean":
        total = sum(summary.n for summary in summaries)
        weights = [summary.n / total for summary in summaries]
    else:
        raise ValueError(f"unknown aggregation method {method!r}")
    value = math.fsum(w * summary.value for w, summary in zip(weights, summaries, strict=True))
    n = sum(summary.n for summary in summaries)
    if any(summary.stderr is None for summary in summaries):
        return MetricSummary(value, None, None, n)
    stderr = math.sqrt(math.fsum((w * s.stderr) ** 2 for w, s in zip(weights, summaries, strict=True)))  # type: ignore[operator]
    return MetricSummary(value, stderr, _normal_interval(value, stderr, proportion=metric in MEAN_METRICS), n)


def _normal_interval(value: float, stderr: float, *, proportion: bool) -> tuple[float, float]:
    """value ± z·se; a proportion's interval (the 0/1 metrics) is clipped to [0, 1]."""
    low, high = value - Z95 * stderr, value + Z95 * stderr
    if proportion:
        low, high = max(low, 0.0), min(high, 1.0)
    return low, high
