"""Ranks with intervals from the paired bootstrap: clear gaps give firm ranks, noise gives ties,
the same seed gives the same intervals."""

import numpy as np

from evals.harness.ranking import placings, tied_ranks


def _accuracy_model(rate: float, *, seed: int, n: int = 400) -> dict[str, list[float]]:
    rng = np.random.default_rng(seed)
    return {task: (rng.random(n) < rate).astype(float).tolist() for task in ("a", "b")}


def test_clear_gaps_rank_firmly_and_noise_ties():
    models = [_accuracy_model(0.9, seed=1), _accuracy_model(0.5, seed=2), _accuracy_model(0.51, seed=3)]
    result = placings(models, metric="acc", higher_is_better=True, seed=7, iters=500)
    assert [round(p.score, 2) for p in result] == [
        round(np.mean([np.mean(models[i][t]) for t in "ab"]), 2) for i in range(3)
    ]
    assert result[0].rank_ci95 == (1, 1)
    assert {result[1].rank_ci95, result[2].rank_ci95} == {(2, 3)}
    assert tied_ranks(result, higher_is_better=True) == [1, 2, 2]
    low, high = result[0].score_ci95
    assert low < result[0].score < high
    # The same seed, the same intervals.
    again = placings(models, metric="acc", higher_is_better=True, seed=7, iters=500)
    assert again == result


def test_ratio_metrics_rank_the_lower_value_first():
    rng = np.random.default_rng(0)
    lengths = rng.integers(200, 400, size=50).astype(float)
    good = {"wiki": [[-0.8 * b, b] for b in lengths]}  # bits_per_byte ≈ 1.15
    bad = {"wiki": [[-1.6 * b, b] for b in lengths]}  # ≈ 2.31
    result = placings([bad, good], metric="bits_per_byte", higher_is_better=False, seed=0, iters=200)
    assert round(result[1].score, 4) == round(0.8 / np.log(2), 4)
    assert (result[0].rank_ci95, result[1].rank_ci95) == ((2, 2), (1, 1))
    assert tied_ranks(result, higher_is_better=False) == [2, 1]


def test_models_must_share_tasks_and_items():
    import pytest

    with pytest.raises(ValueError, match="same tasks and items"):
        placings([{"a": [1.0]}, {"a": [1.0, 0.0]}], metric="acc", higher_is_better=True)
