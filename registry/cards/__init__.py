"""Repository cards: the README.md of a repo, split into YAML metadata and a markdown body, and checked.

Pure Python (no Django, no database): the commit service calls ``card_parse`` on every README.md it is
about to commit and refuses the commit when ``card.errors`` is not empty.
"""

from registry.cards.frontmatter import MAX_YAML_BYTES, MAX_YAML_DEPTH, MAX_YAML_NODES
from registry.cards.parse import card_parse
from registry.cards.types import REPO_TYPES, Card, CardIssue, EvalResult

__all__ = [
    "MAX_YAML_BYTES",
    "MAX_YAML_DEPTH",
    "MAX_YAML_NODES",
    "REPO_TYPES",
    "Card",
    "CardIssue",
    "EvalResult",
    "card_parse",
]
