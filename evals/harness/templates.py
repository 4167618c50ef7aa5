"""Jinja rendering of prompts, targets and choices.

Templates come from task files that users may upload, so they run in Jinja's immutable sandbox
with ``StrictUndefined`` (a misspelt field is an error, never an empty string). The environment
otherwise matches lm-evaluation-harness (trailing newlines kept, a ``regex_replace`` filter), so a
template gives the same text in both harnesses. One filter is ours: ``seeded_shuffle(*keys)``
shuffles a list with a seed derived from the keys, e.g. to list choices in a fixed random order.
"""

import ast
import random
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateError, TemplateSyntaxError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from evals.harness.errors import TaskSpecError
from evals.harness.hashing import derive_seed


def _regex_replace(text: str, pattern: str, repl: str, count: int = 0) -> str:
    return re.sub(pattern, repl, text, count=count)


def _seeded_shuffle(values: Any, *keys: Any) -> list[Any]:
    items = list(values)
    random.Random(derive_seed("seeded_shuffle", *keys)).shuffle(items)
    return items


_ENV = ImmutableSandboxedEnvironment(undefined=StrictUndefined, keep_trailing_newline=True, autoescape=False)
_ENV.filters["regex_replace"] = _regex_replace
_ENV.filters["seeded_shuffle"] = _seeded_shuffle


@lru_cache(maxsize=1024)
def _compile(source: str) -> Template:
    return _ENV.from_string(source)


def check_template(source: str, *, label: str) -> None:
    """Raise :class:`TaskSpecError` if ``source`` is not a valid template."""
    try:
        _compile(source)
    except TemplateSyntaxError as exc:
        raise TaskSpecError(f"{label}: template syntax error on line {exc.lineno}: {exc.message}") from None


def literal(text: str) -> str:
    """A template that renders to ``text`` exactly, whatever Jinja syntax it contains."""
    if "{" not in text:  # every Jinja delimiter starts with "{"
        return text
    return "{% raw %}" + text.replace("{% endraw %}", "{% endraw %}{{ '{% endraw %}' }}{% raw %}") + "{% endraw %}"


def render(source: str, doc: Mapping[str, Any], *, label: str) -> str:
    """Render a template against a document's fields."""
    try:
        return _compile(source).render(**doc)
    except TemplateError as exc:
        raise TaskSpecError(f"{label}: cannot render for document {_doc_ref(doc)}: {exc}") from None


def render_choices(source: str | tuple[str, ...], doc: Mapping[str, Any]) -> list[str]:
    """The choices of a document: a template rendering a list literal, or one template per choice."""
    if isinstance(source, tuple):
        value: Any = [render(item, doc, label=f"doc_to_choice[{i}]") for i, item in enumerate(source)]
    else:
        text = render(source, doc, label="doc_to_choice")
        try:
            value = ast.literal_eval(text)
        except (SyntaxError, ValueError):
            raise TaskSpecError(
                f"doc_to_choice: rendered {text[:80]!r} for document {_doc_ref(doc)}, not a list literal"
            ) from None
    # Empty choices cannot be scored (no tokens) nor length-normalised (acc_norm divides by length).
    if not isinstance(value, list | tuple) or not value or not all(isinstance(c, str) and c for c in value):
        raise TaskSpecError(
            f"doc_to_choice: must give a non-empty list of non-empty strings for document {_doc_ref(doc)}"
        )
    return list(value)


def render_target(source: str, doc: Mapping[str, Any], choices: list[str] | None) -> int | str:
    """The target: a choice index when the task has choices and the template renders digits."""
    text = render(source, doc, label="doc_to_target")
    if choices is None:
        return text
    if text.isdigit():
        index = int(text)
        if index >= len(choices):
            raise TaskSpecError(
                f"doc_to_target: index {index} is out of range for {len(choices)} choices in document {_doc_ref(doc)}"
            )
        return index
    if text not in choices:
        raise TaskSpecError(f"doc_to_target: {text[:80]!r} is not one of the choices of document {_doc_ref(doc)}")
    return choices.index(text)


def _doc_ref(doc: Mapping[str, Any]) -> str:
    return repr(doc["id"]) if "id" in doc else "(no id field)"
