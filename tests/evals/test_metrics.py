"""Per-item metrics, aggregates, standard errors, intervals and the paired bootstrap."""

import math

import pytest

from evals.harness.filters import apply_filters, exact_match
from evals.harness.metrics import (
    Z95,
    aggregate,
    combine,
    multiple_choice_item,
    paired_bootstrap,
    rolling_item,
    summarize,
)
from evals.harness.spec import FilterStep


def test_acc_takes_the_highest_loglikelihood_and_acc_norm_divides_by_characters():
    # ll per character: -2/1 = -2.0, -3/6 = -0.5, -2.5/2 = -1.25
    assert multiple_choice_item([-2.0, -3.0, -2.5], ["a", "abcdef", "ab"], gold=0) == {"acc": 1.0, "acc_norm": 0.0}
    assert multiple_choice_item([-2.0, -3.0, -2.5], ["a", "abcdef", "ab"], gold=1) == {"acc": 0.0, "acc_norm": 1.0}
    # Ties go to the first choice, as numpy.argmax does.
    assert multiple_choice_item([-1.0, -1.0], ["x", "y"], gold=0) == {"acc": 1.0, "acc_norm": 1.0}


def test_rolling_item_counts_words_and_utf8_bytes():
    assert rolling_item(-10.0, "naïve café  au\nlait") == {
        "word_perplexity": [-10.0, 4.0],
        "byte_perplexity": [-10.0, 21.0],
        "bits_per_byte": [-10.0, 21.0],
    }


def test_aggregates_follow_the_formulas():
    pairs = [[-10.0, 4.0], [-30.0, 6.0]]
    assert aggregate("word_perplexity", pairs) == math.exp(40.0 / 10.0)
    assert aggregate("byte_perplexity", pairs) == math.exp(4.0)
    assert aggregate("bits_per_byte", pairs) == 40.0 / (10.0 * math.log(2))
    assert aggregate("perplexity", [-1.0, -3.0]) == math.exp(2.0)
    assert aggregate("acc", [1.0, 0.0, 1.0, 1.0]) == 0.75


def test_mean_metrics_use_the_sample_standard_error_and_a_normal_interval():
    values = [1.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0, 1.0]
    summary = summarize("acc", values, seed=0, bootstrap_iters=0)
    mean = 6 / 8
    stderr = math.sqrt(sum((v - mean) ** 2 for v in values) / 7) / math.sqrt(8)
    assert summary.value == mean
    assert summary.stderr == pytest.approx(stderr, rel=1e-12)
    assert summary.ci95 == pytest.approx((mean - Z95 * stderr, min(1.0, mean + Z95 * stderr)), rel=1e-12)
    assert summary.n == 8
    assert summarize("acc", [1.0], seed=0, bootstrap_iters=10).stderr is None
    # A proportion's interval stays inside [0, 1].
    assert summarize("acc", [1.0, 1.0, 1.0, 0.0], seed=0, bootstrap_iters=0).ci95[1] == 1.0


def test_ratio_metrics_bootstrap_is_seeded_and_brackets_the_value():
    pairs = [[-float(10 + 3 * i), float(4 + i % 5)] for i in range(40)]
    first = summarize("bits_per_byte", pairs, seed=7, bootstrap_iters=500)
    again = summarize("bits_per_byte", pairs, seed=7, bootstrap_iters=500)
    other = summarize("bits_per_byte", pairs, seed=8, bootstrap_iters=500)
    assert first == again
    assert first.stderr != other.stderr
    assert first.value == aggregate("bits_per_byte", pairs)
    assert first.ci95[0] < first.value < first.ci95[1]
    assert 0 < first.stderr < first.value
    assert summarize("bits_per_byte", pairs, seed=7, bootstrap_iters=0).stderr is None


def test_paired_bootstrap_of_identical_runs_is_zero_with_p_one():
    values = [1.0, 0.0, 1.0, 1.0, 0.0] * 4
    result = paired_bootstrap("acc", values, values, seed=3, iters=200)
    assert (result.delta, result.ci95, result.p_value, result.n) == (0.0, (0.0, 0.0), 1.0, 20)


def test_paired_bootstrap_detects_a_consistent_improvement():
    base = [float(i % 2) for i in range(60)]
    better = [1.0 if i % 3 else v for i, v in enumerate(base)]  # right on 20 more items, never worse
    result = paired_bootstrap("acc", better, base, seed=3, iters=2000)
    assert result.delta == pytest.approx(20 / 60, rel=1e-12)
    assert 0 < result.ci95[0] < result.delta < result.ci95[1]
    assert result.p_value == 0.0
    reverse = paired_bootstrap("acc", base, better, seed=3, iters=2000)
    assert reverse.delta == pytest.approx(-20 / 60, rel=1e-12)
    with pytest.raises(ValueError, match="aligned"):
        paired_bootstrap("acc", base, better[:-1], seed=3, iters=10)


def test_suite_combination_weights_tasks():
    a = summarize("acc", [1.0, 0.0] * 5, seed=0, bootstrap_iters=0)  # 0.5, n=10
    b = summarize("acc", [1.0] * 27 + [0.0] * 3, seed=0, bootstrap_iters=0)  # 0.9, n=30
    mean = combine("acc", "mean", [a, b])
    weighted = combine("acc", "weighted_mean", [a, b])
    assert mean.value == pytest.approx(0.7, rel=1e-12)
    assert weighted.value == pytest.approx(0.25 * 0.5 + 0.75 * 0.9, rel=1e-12)
    assert mean.stderr == pytest.approx(math.sqrt(a.stderr**2 + b.stderr**2) / 2, rel=1e-12)
    assert mean.n == weighted.n == 40
    with pytest.raises(ValueError, match="unknown aggregation method"):
        combine("acc", "median", [a, b])


def test_filters_and_exact_match():
    steps = [FilterStep("first_line"), FilterStep("regex", pattern=r"answer is (\d+)"), FilterStep("strip")]
    assert apply_filters("So the answer is 42.\nMore text", steps) == "42"
    assert apply_filters("no number here", steps) == "[invalid]"
    assert apply_filters("  Mixed Case ", [FilterStep("strip"), FilterStep("lowercase")]) == "mixed case"
    assert exact_match("Paris!", "paris", ignore_case=True, ignore_punctuation=True) == 1.0
    assert exact_match("Paris!", "paris", ignore_case=True, ignore_punctuation=False) == 0.0
    assert exact_match("Paris", "paris", ignore_case=False, ignore_punctuation=False) == 0.0
