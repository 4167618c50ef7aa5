"""Repository cards: the README.md of a repo, split into YAML metadata and a markdown body, and checked.

Pure Python (no Django, no database): the commit service calls ``card_parse`` on every README.md it is
about to commit and refuses the commit when ``card.errors`` is not empty; the ``/api/validate-yaml`` view
answers with ``validate_yaml_response``; the search indexer stores ``card_search_text``.
"""

from registry.cards.frontmatter import MAX_YAML_BYTES, MAX_YAML_DEPTH, MAX_YAML_NODES
from registry.cards.parse import card_parse
from registry.cards.response import validate_yaml_response
from registry.cards.search import MAX_SEARCH_TEXT_BYTES, card_search_text
from registry.cards.types import REPO_TYPES, Card, CardIssue, EvalResult

__all__ = [
    "MAX_SEARCH_TEXT_BYTES",
    "MAX_YAML_BYTES",
    "MAX_YAML_DEPTH",
    "MAX_YAML_NODES",
    "REPO_TYPES",
    "Card",
    "CardIssue",
    "EvalResult",
    "card_parse",
    "card_search_text",
    "validate_yaml_response",
]
