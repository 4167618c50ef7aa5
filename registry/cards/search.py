"""``card_search_text``: what the search index holds for a card.

The text is the card's title on the first line, its keywords (tags, task, library, task categories) on the
second, then the body as plain text: markdown syntax, link targets and HTML tags removed; link texts, image
alt texts and code kept (people search for snippets). It is bounded so that one huge README cannot swell the
index: at most ``MAX_BODY_SCAN`` characters of body are read and at most ``MAX_SEARCH_TEXT_BYTES`` bytes
(UTF-8) are returned.
"""

import html
import re

from markdown_it import MarkdownIt

from registry.cards.types import Card

MAX_SEARCH_TEXT_BYTES = 100_000
MAX_BODY_SCAN = 1_000_000

_TAG = re.compile(r"<[^>]*>")
_SPACES = re.compile(r"[ \t\r\f\v]+")
_BLANK_LINES = re.compile(r"\n{2,}")
_markdown = MarkdownIt("commonmark").enable(["table", "strikethrough"])


def card_search_text(card: Card) -> str:
    """The plain text to index for ``card``, at most ``MAX_SEARCH_TEXT_BYTES`` bytes of UTF-8."""
    tokens = _markdown.parse(card.body[:MAX_BODY_SCAN])
    blocks = _body_blocks(tokens)
    title = _title(card, tokens)
    keywords = [*card.tags, *card.task_categories]
    keywords += [value for value in (card.pipeline_tag, card.library_name) if value]
    lines = [title, " ".join(dict.fromkeys(keywords)), *blocks]
    text = "\n".join(line for line in lines if line)
    encoded = text.encode("utf-8")
    if len(encoded) <= MAX_SEARCH_TEXT_BYTES:
        return text
    return encoded[:MAX_SEARCH_TEXT_BYTES].decode("utf-8", errors="ignore")


def _title(card: Card, tokens: list) -> str:
    """The card's declared title (``title``, ``pretty_name``), else its first heading, else empty."""
    for key in ("title", "pretty_name"):
        value = card.metadata.get(key)
        if isinstance(value, str) and value.strip():
            return _one_line(value)
    for index, token in enumerate(tokens):
        if token.type == "heading_open":
            return _one_line(_inline_text(tokens[index + 1]))
    return ""


def _body_blocks(tokens: list) -> list[str]:
    """The body's blocks (paragraphs, headings, list items, table cells, code) as plain text."""
    blocks: list[str] = []
    for token in tokens:
        if token.type == "inline":
            text = _inline_text(token)
        elif token.type in ("fence", "code_block"):
            text = token.content
        elif token.type == "html_block":
            text = html.unescape(_TAG.sub(" ", token.content))
        else:
            continue
        text = _BLANK_LINES.sub("\n", _SPACES.sub(" ", text)).strip()
        if text:
            blocks.append(text)
    return blocks


def _inline_text(token) -> str:
    parts: list[str] = []
    for child in token.children or ():
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type == "image":
            parts.append(_inline_text(child))
        elif child.type in ("softbreak", "hardbreak", "html_inline"):
            parts.append(" ")
    return "".join(parts)


def _one_line(text: str) -> str:
    return _SPACES.sub(" ", text.replace("\n", " ")).strip()
