"""Strict input: JSON bodies and the typed values taken from them and from query strings.

Every API face parses its JSON through :func:`json_parse` (the HF API's ``read_json``, DRF's
parser, the inference API) and takes values through the ``value_*``/``query_*`` checks, so a
body nested 50,000 deep, a string where a number belongs, a number past what the database stores
or a NUL in a string is a 400 in the one error shape — never a ``RecursionError``, a
``TypeError`` or an overflow deep in a service. Messages name the field, never echo the value
unbounded (``common.errors.bounded``).
"""

from __future__ import annotations

import json
from typing import Any

from common.errors import ValidationError

# Deeper than any body the hub accepts (an NDJSON header, a commit, a run config, a chat).
MAX_JSON_DEPTH = 64
# The largest integer a BIGINT column stores; anything larger cannot name a row or a size.
MAX_INT = 2**63 - 1
# The largest value of an INTEGER column (discussion numbers).
MAX_INT32 = 2**31 - 1
_MISSING = object()


def _check_structure(value: Any) -> None:
    """Depth and NUL checks, iteratively (no recursion for a deep document to exhaust)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            if depth > MAX_JSON_DEPTH:
                raise ValidationError(f"The JSON body is nested deeper than {MAX_JSON_DEPTH} levels.")
            for key, child in item.items():
                if "\x00" in key:
                    raise ValidationError("JSON keys may not contain NUL characters.")
                stack.append((child, depth + 1))
        elif isinstance(item, list):
            if depth > MAX_JSON_DEPTH:
                raise ValidationError(f"The JSON body is nested deeper than {MAX_JSON_DEPTH} levels.")
            stack.extend((child, depth + 1) for child in item)
        elif isinstance(item, str) and "\x00" in item:
            raise ValidationError("JSON strings may not contain NUL characters.")


def json_parse(raw: bytes | str) -> Any:
    """The JSON document in ``raw``; ``ValidationError`` (400) for invalid, too deep or NUL-laden
    documents."""
    try:
        value = json.loads(raw)
    except RecursionError:
        raise ValidationError(f"The JSON body is nested deeper than {MAX_JSON_DEPTH} levels.") from None
    except (UnicodeDecodeError, json.JSONDecodeError, ValueError) as exc:
        raise ValidationError(f"The request body is not valid JSON: {exc}") from None
    _check_structure(value)
    return value


def json_object(raw: bytes | str) -> dict:
    value = json_parse(raw)
    if not isinstance(value, dict):
        raise ValidationError("The request body must be a JSON object.")
    return value


def _invalid(name: str, message: str) -> ValidationError:
    return ValidationError(f"{name} {message}", fields={name: [message]})


def value_str(body: dict, name: str, *, default: Any = _MISSING, max_length: int = 1000) -> str:
    """``body[name]`` as a string of at most ``max_length`` characters (``null`` or absent:
    ``default``, or a 400 without one)."""
    value = body.get(name)
    if value is None:
        if default is _MISSING:
            raise _invalid(name, "is required.")
        return default
    if not isinstance(value, str):
        raise _invalid(name, "must be a string.")
    if len(value) > max_length:
        raise _invalid(name, f"is limited to {max_length} characters.")
    return value


def value_bool(body: dict, name: str, *, default: bool = False) -> bool:
    """``body[name]`` as a JSON boolean (``"yes"`` is not one)."""
    value = body.get(name)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise _invalid(name, "must be true or false.")
    return value


def value_int(value: Any, name: str, *, minimum: int = 0, maximum: int = MAX_INT) -> int:
    """``value`` as a whole number in ``[minimum, maximum]`` (booleans and strings refused)."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise _invalid(name, "must be a whole number.")
    if not minimum <= value <= maximum:
        raise _invalid(name, f"must be between {minimum} and {maximum}.")
    return value


def text_int(raw: str, name: str, *, minimum: int = 0, maximum: int = MAX_INT) -> int:
    """A whole number written in a URL (a query parameter, a path segment)."""
    if not raw.isascii() or not raw.lstrip("-").isdigit() or len(raw) > 20:
        raise _invalid(name, "must be a whole number.")
    return value_int(int(raw), name, minimum=minimum, maximum=maximum)


def text_bool(raw: str | None, name: str, *, default: bool = False) -> bool:
    """A boolean written as text (a form field, a query parameter): true/false, 1/0, yes/no."""
    if raw is None or raw == "":
        return default
    lowered = raw.lower()
    if lowered in {"1", "true", "yes"}:
        return True
    if lowered in {"0", "false", "no"}:
        return False
    raise _invalid(name, "must be true or false.")


def value_choice(body: dict, name: str, choices: tuple[str, ...], *, default: Any = _MISSING) -> str:
    """``body[name]`` as one of ``choices``."""
    value = body.get(name)
    if value is None and default is not _MISSING:
        return default
    if not isinstance(value, str) or value not in choices:
        raise _invalid(name, f"must be one of {', '.join(choices)}.")
    return value
