"""The access form of a gated repository, as its card declares it with the Hub's keys.

``extra_gated_prompt`` is markdown shown above the form, ``extra_gated_button_content`` the label of
the submit button, and ``extra_gated_fields`` maps each question's label to its type::

    extra_gated_fields:
      Company: text
      Country: country
      Date of birth: date_picker
      I want to use this model for:
        type: select
        options: [Research, {label: Other, value: other}]
      I agree to share my contact information: checkbox

Answers are kept keyed by label, as the Hub reports them in an access request's ``fields``. A card
whose declaration is malformed still yields a form: entries that cannot be read are left out, so a
typo never locks people out of asking. A ``country`` answer is a country's name as ISO 3166 gives
it (``pycountry``'s list, which the form offers). Pure: no Django.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

import pycountry

FIELD_TYPES = ("text", "checkbox", "date_picker", "country", "select")
MAX_FIELDS = 50
MAX_LABEL = 200
MAX_ANSWER = 1000
DEFAULT_BUTTON = "Agree and access repository"
COUNTRIES = tuple(sorted(country.name for country in pycountry.countries))
_COUNTRY_SET = frozenset(COUNTRIES)


@dataclass(frozen=True)
class GateField:
    """One question: ``label`` (also the key of the answer), ``kind`` (one of ``FIELD_TYPES``) and,
    for a select, its ``options`` as ``(value, label)`` pairs."""

    label: str
    kind: str
    options: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class GateForm:
    prompt: str = ""
    button: str = DEFAULT_BUTTON
    fields: tuple[GateField, ...] = field(default_factory=tuple)


def _options(raw: Any) -> tuple[tuple[str, str], ...]:
    options = []
    for item in raw if isinstance(raw, list) else []:
        if isinstance(item, dict) and isinstance(item.get("value"), str):
            label = item.get("label")
            options.append((item["value"], label if isinstance(label, str) else item["value"]))
        elif isinstance(item, str | int | float) and not isinstance(item, bool):
            options.append((str(item), str(item)))
    return tuple(options)


def _field(label: Any, spec: Any) -> GateField | None:
    if not isinstance(label, str) or not label.strip() or len(label) > MAX_LABEL:
        return None
    if isinstance(spec, str):
        return GateField(label=label, kind=spec) if spec in FIELD_TYPES and spec != "select" else None
    if isinstance(spec, dict) and spec.get("type") == "select":
        options = _options(spec.get("options"))
        return GateField(label=label, kind="select", options=options) if options else None
    if isinstance(spec, dict) and spec.get("type") in FIELD_TYPES:
        return GateField(label=label, kind=spec["type"])
    return None


def gate_form(metadata: dict) -> GateForm:
    """The access form the card ``metadata`` declares (an empty form without the keys)."""
    prompt = metadata.get("extra_gated_prompt")
    button = metadata.get("extra_gated_button_content")
    raw = metadata.get("extra_gated_fields")
    fields = [_field(label, spec) for label, spec in raw.items()] if isinstance(raw, dict) else []
    return GateForm(
        prompt=prompt if isinstance(prompt, str) else "",
        button=button if isinstance(button, str) and button.strip() else DEFAULT_BUTTON,
        fields=tuple(f for f in fields if f is not None)[:MAX_FIELDS],
    )


def gate_card_problems(metadata: dict) -> list[tuple[str, str]]:
    """What is wrong with the card's ``extra_gated_*`` keys, as ``(path, sentence)`` warnings:
    the form still works without the entries named."""
    problems: list[tuple[str, str]] = []
    for key in ("extra_gated_prompt", "extra_gated_button_content"):
        if key in metadata and not isinstance(metadata[key], str):
            problems.append((key, "must be text; it is not shown"))
    raw = metadata.get("extra_gated_fields")
    if raw is None:
        return problems
    if not isinstance(raw, dict):
        return [*problems, ("extra_gated_fields", "must map each question to its type; no question is asked")]
    kinds = ", ".join(FIELD_TYPES)
    for label, spec in raw.items():
        path = f"extra_gated_fields.{label}"
        if not isinstance(label, str) or not label.strip() or len(label) > MAX_LABEL:
            problems.append((path, f"a question must be text of at most {MAX_LABEL} characters; it is not asked"))
        elif _field(label, spec) is None:
            if spec == "select" or (isinstance(spec, dict) and spec.get("type") == "select"):
                reason = "a select needs options: a list of texts or of {label, value}"
            else:
                reason = f"the type must be one of {kinds}"
            problems.append((path, f"{reason}; the question is not asked"))
    if len(raw) > MAX_FIELDS:
        problems.append(("extra_gated_fields", f"only the first {MAX_FIELDS} questions are asked"))
    return problems


def gate_answers(form: GateForm, answers: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Check ``answers`` (label → submitted value) against ``form``.

    Returns the answers to keep (label → string, or ``True`` for a ticked checkbox) and the problems
    (label → sentence); every question is required, and a checkbox must be ticked, as on the Hub.
    """
    kept: dict[str, Any] = {}
    problems: dict[str, str] = {}
    for question in form.fields:
        value = answers.get(question.label)
        if question.kind == "checkbox":
            if value in (True, "on", "true", "1"):
                kept[question.label] = True
            else:
                problems[question.label] = "Tick this box to ask for access."
            continue
        text = value.strip() if isinstance(value, str) else ""
        if not text:
            problems[question.label] = "This answer is required."
        elif len(text) > MAX_ANSWER:
            problems[question.label] = f"Answers are limited to {MAX_ANSWER} characters."
        elif question.kind == "select" and text not in {value for value, _ in question.options}:
            problems[question.label] = "Choose one of the options."
        elif question.kind == "country" and text not in _COUNTRY_SET:
            problems[question.label] = "Choose a country from the list."
        elif question.kind == "date_picker" and not _is_date(text):
            problems[question.label] = "Give a date as YYYY-MM-DD."
        else:
            kept[question.label] = text
    return kept, problems


def _is_date(text: str) -> bool:
    try:
        datetime.date.fromisoformat(text)
    except ValueError:
        return False
    return len(text) == 10
