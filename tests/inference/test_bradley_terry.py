"""The Bradley–Terry fit: closed-form cases and a simulated tournament's interval coverage."""

from __future__ import annotations

import math
import random

import pytest
import torch

from training_runner.inference.bradley_terry import ELO_SCALE, bradley_terry

torch.set_num_threads(1)


def elo_gap(odds: float) -> float:
    return ELO_SCALE * math.log(odds)


def test_two_models_rate_by_the_log_odds_of_their_record():
    battles = [(0, 1, 1.0)] * 3 + [(1, 0, 1.0)] + [(0, 1, 0.5)] * 2  # 3 wins, 1 loss, 2 ties for model 0
    first, second = bradley_terry(battles, models=2, rounds=50)
    # Ties count half: 4 of 6 points, odds 2:1, centred on 1000.
    assert first.rating - second.rating == pytest.approx(elo_gap(2.0), abs=0.5)
    assert first.rating + second.rating == pytest.approx(2000.0, abs=1e-6)
    assert (first.battles, second.battles) == (6, 6)
    assert first.lower < first.rating < first.upper


def test_counts_that_match_a_model_exactly_recover_its_strengths():
    # Strengths 0, ln 2, ln 4: P(1>0) = 2/3, P(2>0) = 4/5, P(2>1) = 2/3; records in those proportions.
    battles = [(1, 0, 1.0)] * 2 + [(0, 1, 1.0)] + [(2, 0, 1.0)] * 4 + [(0, 2, 1.0)] + [(2, 1, 1.0)] * 2 + [(1, 2, 1.0)]
    ratings = bradley_terry(battles * 20, models=3, rounds=50)
    mean = math.log(8) / 3
    expected = [1000 + ELO_SCALE * (s - mean) for s in (0.0, math.log(2), math.log(4))]
    assert [r.rating for r in ratings] == pytest.approx(expected, abs=0.5)


@pytest.mark.slow
def test_simulated_tournaments_cover_the_true_strengths():
    """Over 100 seeded tournaments of 400 battles, the 95 % intervals (500 bootstrap rounds, the
    default) hold the true strengths ≥ 95 % of the time."""
    truth = [0.0, 0.4, -0.3, 0.9]
    centre = sum(truth) / len(truth)
    inside = total = 0
    for seed in range(100):
        rng = random.Random(seed)
        battles = []
        for _ in range(400):
            i, j = rng.sample(range(4), 2)
            win = rng.random() < 1 / (1 + math.exp(truth[j] - truth[i]))
            battles.append((i, j, 1.0 if win else 0.0))
        for rating in bradley_terry(battles, models=4, rounds=500, seed=seed):
            true_elo = 1000 + ELO_SCALE * (truth[rating.index] - centre)
            inside += rating.lower <= true_elo <= rating.upper
            total += 1
    assert total == 400
    assert inside / total >= 0.95


def test_no_battles_no_ratings():
    assert bradley_terry([], models=0) == []
