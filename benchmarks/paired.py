"""Helpers for benchmarks that compare two implementations in alternating rounds of one run."""

from __future__ import annotations

import math
import os
import statistics
from collections.abc import Callable, Sequence
from typing import TypeVar

from benchmarks.hubserver import RssWatcher

T = TypeVar("T")
MB = 1e6


def median_interval(ratios: Sequence[float], confidence: float = 0.95) -> tuple[float, float, float]:
    """Median of paired per-round ratios and a distribution-free interval for it.

    The interval is [r_(k), r_(n+1-k)] of the sorted ratios, with k the largest rank whose binomial
    tail P(Bin(n, ½) < k) stays within (1 − confidence) / 2: it covers the true median at least
    ``confidence`` of the time whatever the distribution of the rounds (min..max for n ≤ 8).
    """
    ordered = sorted(ratios)
    n = len(ordered)
    if n == 0:
        raise ValueError("no rounds to summarise")
    d = 1  # rank dropped at each end: the largest with P(Bin(n, ½) < d) ≤ (1 − confidence) / 2
    while d < (n + 1) // 2 and sum(math.comb(n, i) for i in range(d + 1)) / 2**n <= (1 - confidence) / 2:
        d += 1
    return statistics.median(ordered), ordered[d - 1], ordered[n - d]


def with_peak_rss(call: Callable[[], T]) -> tuple[T, float, float]:
    """Run ``call`` while sampling this process's RSS every 5 ms: (result, peak MB, RSS before MB)."""
    watcher = RssWatcher(os.getpid(), interval=0.005)
    before = watcher._sample()
    with watcher:
        result = call()
    return result, watcher.peak / MB, before / MB
