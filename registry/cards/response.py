"""``validate_yaml_response``: the answer of ``POST /api/validate-yaml`` for a parsed card.

huggingface_hub 2.4.0 (``HfApi._validate_yaml``) reads the JSON body before it looks at the status: every
``warnings[i].message`` becomes one ``UserWarning``, and a 400 turns ``errors[i].message`` into
``ValueError("Invalid metadata in README.md.\\n- <message>...")``. Each message therefore names the metadata
path it concerns; ``field`` is added for this registry's own pages and is ignored by the client.
"""

from typing import Any

from registry.cards.types import Card, CardIssue


def validate_yaml_response(card: Card) -> tuple[int, dict[str, Any]]:
    """The HTTP status (200, or 400 when the card has errors) and JSON body to answer with."""
    body = {
        "errors": [_issue_json(issue) for issue in card.errors],
        "warnings": [_issue_json(i) for i in card.warnings],
    }
    return (400 if card.errors else 200), body


def _issue_json(issue: CardIssue) -> dict[str, str]:
    return {"message": str(issue), "field": issue.field}
