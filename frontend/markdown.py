"""Markdown of model cards, tutorials and previews: rendered on the server, sanitised, typeset in the browser.

markdown-it-py parses CommonMark plus tables, strikethrough, footnotes, task lists, ``$…$`` /
``$$…$$`` math and heading anchors; Pygments highlights fenced code. Raw HTML is allowed in the
source but everything that comes out goes through one nh3 allow-list, so no script, event handler,
``style`` (beyond table alignment) or ``javascript:`` URL survives, whatever the author wrote.

Math and mermaid diagrams are not typeset here: the server emits their source, escaped, inside
``<span class="math-inline">``, ``<div class="math-display">`` and ``<pre class="mermaid">``, and
``static/js/render.js`` hands those elements to KaTeX and mermaid (self-hosted, loaded only when
the page has such elements).

Ids in the output are prefixed (``user-content-``) so a README cannot shadow the ids of the page
around it; in-document links (``#section``) are rewritten to match. Relative links and images are
resolved against the file's folder in the repository (see :class:`LinkBase`).
"""

from __future__ import annotations

import hashlib
import html
import posixpath
import re
import unicodedata
from dataclasses import dataclass

import nh3
from django.core.cache import cache
from markdown_it import MarkdownIt
from mdit_py_plugins.anchors import anchors_plugin
from mdit_py_plugins.dollarmath import dollarmath_plugin
from mdit_py_plugins.footnote import footnote_plugin
from mdit_py_plugins.tasklists import tasklists_plugin
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.token import STANDARD_TYPES
from pygments.util import ClassNotFound

# Bump when the output for the same source changes, so cached renderings are not reused.
RENDER_VERSION = 1
CACHE_SECONDS = 24 * 3600
# Longer sources are shown as plain text: parsing cost grows with size and nobody reads them rendered.
MAX_SOURCE_CHARS = 2_000_000
ID_PREFIX = "user-content-"

_PYGMENTS_CLASSES = {name for name in STANDARD_TYPES.values() if name}
_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "details", "div", "dl", "dt", "em",
    "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "input", "ins", "kbd", "li", "mark", "ol",
    "p", "pre", "q", "s", "samp", "section", "small", "span", "strong", "sub", "summary", "sup",
    "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
}  # fmt: skip
_ATTRIBUTES = {
    "a": {"href", "title", "id"},
    "abbr": {"title"},
    "img": {"src", "alt", "title", "width", "height"},
    "input": {"checked"},
    "td": {"style", "colspan", "rowspan"},
    "th": {"style", "colspan", "rowspan"},
    "ol": {"start"},
    "li": {"id"},
    "sup": {"id"},
    "details": {"open"},
    **{f"h{level}": {"id"} for level in range(1, 7)},
}
_CLASSES = {
    "span": _PYGMENTS_CLASSES | {"math-inline"},
    "div": {"math-display"},
    "pre": {"mermaid", "highlight"},
    "a": {"header-anchor", "footnote-backref"},
    "hr": {"footnotes-sep"},
    "section": {"footnotes"},
    "ol": {"footnotes-list"},
    "ul": {"contains-task-list"},
    "li": {"footnote-item", "task-list-item"},
    "sup": {"footnote-ref"},
    "input": {"task-list-item-checkbox"},
}
_URL_SCHEMES = {"http", "https", "mailto"}
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


@dataclass(frozen=True)
class LinkBase:
    """Where relative URLs in a markdown file point.

    ``page_prefix`` is prepended to links (``/ns/name/blob/main/``), ``file_prefix`` to images
    (``/ns/name/resolve/main/``); ``folder`` is the folder of the markdown file in the repository.
    """

    page_prefix: str
    file_prefix: str
    folder: str = ""


@dataclass(frozen=True)
class Heading:
    level: int
    text: str
    anchor: str  # the id in the output, prefix included


@dataclass(frozen=True)
class RenderedMarkdown:
    html: str
    headings: tuple[Heading, ...]
    has_math: bool
    has_mermaid: bool


def _slug(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return re.sub(r"\s+", "-", text) or "section"


def _highlight(code: str, lang: str, _attrs) -> str:
    """A highlighted ``<pre>`` for fenced code (markdown-it keeps output starting with ``<pre``)."""
    name = (lang or "").strip().split()[0] if lang else ""
    lexer = None
    if name:
        try:
            lexer = get_lexer_by_name(name)
        except ClassNotFound:
            lexer = None
    body = highlight(code, lexer, HtmlFormatter(nowrap=True)) if lexer else html.escape(code)
    return f'<pre class="highlight"><code>{body}</code></pre>'


def _render_fence(self, tokens, idx, options, env) -> str:
    token = tokens[idx]
    info = token.info.strip().split()[0].lower() if token.info.strip() else ""
    if info == "mermaid":
        return f'<pre class="mermaid">{html.escape(token.content)}</pre>\n'
    if info in {"math", "latex", "katex"}:
        return f'<div class="math-display">{html.escape(token.content.strip())}</div>\n'
    return self.fence(tokens, idx, options, env)


def _math_inline(self, tokens, idx, options, env) -> str:
    return f'<span class="math-inline">{html.escape(tokens[idx].content.strip())}</span>'


def _math_display(self, tokens, idx, options, env) -> str:
    return f'<div class="math-display">{html.escape(tokens[idx].content.strip())}</div>\n'


def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": True, "highlight": _highlight, "typographer": False})
    md.enable(["table", "strikethrough"])
    md.use(footnote_plugin)
    md.use(tasklists_plugin)
    md.use(dollarmath_plugin, double_inline=True)
    md.use(anchors_plugin, min_level=1, max_level=4, slug_func=_slug, permalink=True, permalinkSymbol="#")
    md.add_render_rule("fence", _render_fence)
    for rule in ("math_inline",):
        md.add_render_rule(rule, _math_inline)
    for rule in ("math_inline_double", "math_block", "math_block_label"):
        md.add_render_rule(rule, _math_display)
    return md


_MD = _parser()


def _resolve(value: str, *, prefix: str, folder: str) -> str | None:
    """A relative repository URL made absolute under ``prefix``; None if it leaves the repository."""
    path, _, fragment = value.partition("#")
    path, _, query = path.partition("?")
    joined = posixpath.normpath(posixpath.join(folder, path)) if path else folder
    if joined == ".":
        joined = ""
    if joined.startswith(".."):
        return None
    url = prefix + joined
    if query:
        url += "?" + query
    if fragment:
        url += "#" + ID_PREFIX + fragment
    return url


def _attribute_filter(links: LinkBase | None):
    def attribute_filter(tag: str, attribute: str, value: str) -> str | None:
        if attribute not in {"href", "src"}:
            return value
        if value.startswith("#"):
            return "#" + ID_PREFIX + value[1:] if attribute == "href" else None
        if _SCHEME.match(value) or value.startswith("/"):
            return value  # absolute: nh3 checks the scheme against the allow-list
        if links is None:
            return None
        prefix = links.file_prefix if tag == "img" else links.page_prefix
        return _resolve(value, prefix=prefix, folder=links.folder)

    return attribute_filter


def sanitize(fragment: str, *, links: LinkBase | None = None) -> str:
    """``fragment`` with only allow-listed tags, attributes, classes and URL schemes left."""
    return nh3.clean(
        fragment,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        allowed_classes=_CLASSES,
        attribute_filter=_attribute_filter(links),
        url_schemes=_URL_SCHEMES,
        filter_style_properties={"text-align"},
        tag_attribute_values={"input": {"type": {"checkbox"}}},
        set_tag_attribute_values={"input": {"disabled": ""}},
        link_rel="nofollow noopener noreferrer",
        id_prefix=ID_PREFIX,
    )


def _headings(tokens) -> tuple[Heading, ...]:
    found = []
    for index, token in enumerate(tokens):
        if token.type != "heading_open" or not token.attrGet("id"):
            continue
        inline = tokens[index + 1]
        text = "".join(
            child.content for child in (inline.children or []) if child.type in {"text", "code_inline", "math_inline"}
        ).strip()
        found.append(Heading(level=int(token.tag[1]), text=text, anchor=ID_PREFIX + str(token.attrGet("id"))))
    return tuple(found)


def markdown_render(text: str, *, links: LinkBase | None = None) -> RenderedMarkdown:
    """Render and sanitise ``text``; relative URLs resolve against ``links`` (dropped without it)."""
    if len(text) > MAX_SOURCE_CHARS:
        return RenderedMarkdown(html=f"<pre>{html.escape(text)}</pre>", headings=(), has_math=False, has_mermaid=False)
    env: dict = {}
    tokens = _MD.parse(text, env)
    raw = _MD.renderer.render(tokens, _MD.options, env)
    types = {token.type for token in tokens} | {
        child.type for token in tokens if token.children for child in token.children
    }
    has_mermaid = any(token.type == "fence" and token.info.strip().lower().startswith("mermaid") for token in tokens)
    has_math = any(name.startswith("math") for name in types) or any(
        token.type == "fence" and token.info.strip().lower().split()[:1] in (["math"], ["latex"], ["katex"])
        for token in tokens
    )
    return RenderedMarkdown(
        html=sanitize(raw, links=links), headings=_headings(tokens), has_math=has_math, has_mermaid=has_mermaid
    )


def markdown_render_cached(text: str, *, links: LinkBase | None = None, content_id: str) -> RenderedMarkdown:
    """:func:`markdown_render` memoised by ``content_id`` (a sha256 of the source) and ``links``."""
    key_source = f"{RENDER_VERSION}|{content_id}|{links}"
    key = "markdown:" + hashlib.sha256(key_source.encode()).hexdigest()
    rendered = cache.get(key)
    if rendered is None:
        rendered = markdown_render(text, links=links)
        cache.set(key, rendered, CACHE_SECONDS)
    return rendered
