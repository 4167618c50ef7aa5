"""Configuration errors that name the offending key and the values it accepts.

Every dataclass config in the training core validates itself in ``__post_init__`` through these
helpers, so a bad YAML file or ``--set`` override fails before any work starts, with a message the
web UI can show as-is: ``train.precision: 'fp16' is not allowed; allowed values: 'auto', 'bf16', 'fp32'``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


class ConfigError(ValueError):
    """A config value is missing, of the wrong type, or outside its allowed values."""

    def __init__(self, key: str, message: str) -> None:
        self.key = key
        self.detail = message
        super().__init__(f"{key}: {message}")

    def under(self, prefix: str) -> ConfigError:
        """The same error with its key moved under a section name (``lr`` → ``optim.lr``)."""
        return ConfigError(f"{prefix}.{self.key}", self.detail)


def check_choice(key: str, value: Any, allowed: Iterable[Any]) -> None:
    allowed = tuple(allowed)
    if value not in allowed:
        names = ", ".join(repr(a) for a in allowed)
        raise ConfigError(key, f"{value!r} is not allowed; allowed values: {names}")


def check_positive(key: str, value: float | int | None, *, allow_zero: bool = False, optional: bool = False) -> None:
    if value is None and optional:
        return
    ok = value is not None and (value >= 0 if allow_zero else value > 0)
    if not ok:
        bound = ">= 0" if allow_zero else "> 0"
        raise ConfigError(key, f"{value!r} is not allowed; allowed values: numbers {bound}")


def check_fraction(key: str, value: float, *, closed: bool = True) -> None:
    """0 ≤ value ≤ 1 (closed) or 0 ≤ value < 1 (half-open, for probabilities of dropping)."""
    ok = 0.0 <= value <= 1.0 if closed else 0.0 <= value < 1.0
    if not ok:
        interval = "[0, 1]" if closed else "[0, 1)"
        raise ConfigError(key, f"{value!r} is not allowed; allowed values: numbers in {interval}")
