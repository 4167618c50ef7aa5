"""Post-processing of generated text before ``exact_match``.

A task lists steps applied in order to the model's raw continuation (already cut at the first stop
string). Steps: ``strip``, ``lowercase``, ``uppercase``, ``first_line`` (text up to the first
newline) and ``regex`` (the first match of ``pattern``: its first non-empty group if it has groups,
else the whole match, stripped; ``fallback`` when nothing matches).
"""

import re
import string
from collections.abc import Sequence
from typing import Protocol

from evals.harness.errors import TaskSpecError

FILTER_FUNCTIONS = ("strip", "lowercase", "uppercase", "first_line", "regex")


class FilterLike(Protocol):
    function: str
    pattern: str | None
    fallback: str


def check_step(function: str, pattern: str | None) -> None:
    """Validate one step as written in a task file."""
    if function not in FILTER_FUNCTIONS:
        raise TaskSpecError(f"unknown filter {function!r} (use {', '.join(FILTER_FUNCTIONS)})")
    if function == "regex":
        if not pattern:
            raise TaskSpecError("the regex filter needs a pattern")
        try:
            re.compile(pattern)
        except re.error as exc:
            raise TaskSpecError(f"regex filter pattern {pattern!r}: {exc}") from None
    elif pattern is not None:
        raise TaskSpecError(f"filter {function!r} takes no pattern")


def apply_filters(text: str, steps: Sequence[FilterLike]) -> str:
    for step in steps:
        text = _apply(text, step)
    return text


def _apply(text: str, step: FilterLike) -> str:
    if step.function == "strip":
        return text.strip()
    if step.function == "lowercase":
        return text.lower()
    if step.function == "uppercase":
        return text.upper()
    if step.function == "first_line":
        return text.split("\n", 1)[0]
    match = re.search(step.pattern or "", text)
    if match is None:
        return step.fallback
    groups = [group for group in match.groups() if group]
    return (groups[0] if groups else match.group(0)).strip()


_PUNCTUATION = str.maketrans("", "", string.punctuation)


def exact_match(prediction: str, reference: str, *, ignore_case: bool, ignore_punctuation: bool) -> float:
    """1.0 when the filtered prediction equals the reference, under the metric's options."""
    if ignore_case:
        prediction, reference = prediction.lower(), reference.lower()
    if ignore_punctuation:
        prediction, reference = prediction.translate(_PUNCTUATION), reference.translate(_PUNCTUATION)
    return float(prediction == reference)
