"""Syntax highlighting of files shown on the file page, one line at a time."""

from __future__ import annotations

import html

from django.utils.safestring import SafeString
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name, get_lexer_for_filename
from pygments.util import ClassNotFound

# Larger texts are shown without highlighting: lexing cost grows with size.
MAX_HIGHLIGHT_CHARS = 256 * 1024


def _lexer(filename: str, language: str | None):
    options = {"stripnl": False, "ensurenl": False}
    try:
        if language:
            return get_lexer_by_name(language, **options)
        return get_lexer_for_filename(filename, **options)
    except ClassNotFound:
        return None


def highlight_lines(text: str, *, filename: str, language: str | None = None) -> list[SafeString]:
    """``text`` as escaped HTML lines, with Pygments token spans when a lexer knows the file.

    Pygments closes its spans at every line end, so the output splits cleanly into lines.
    """
    if text.endswith("\n"):
        text = text[:-1]
    lexer = _lexer(filename, language) if len(text) <= MAX_HIGHLIGHT_CHARS else None
    if lexer is None:
        body = html.escape(text)
    else:
        body = highlight(text, lexer, HtmlFormatter(nowrap=True))
        if body.endswith("\n") and not text.endswith("\n"):
            body = body[:-1]
    return [SafeString(line) for line in body.split("\n")]
