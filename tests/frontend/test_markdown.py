"""Markdown rendering and sanitising: what survives, what is rewritten, what is removed."""

import pytest

from frontend.markdown import Heading, LinkBase, markdown_render, markdown_render_cached, sanitize

LINKS = LinkBase(page_prefix="/alice/tiny/blob/main/", file_prefix="/alice/tiny/resolve/main/", folder="")


def render(text: str, links: LinkBase | None = LINKS) -> str:
    return markdown_render(text, links=links).html


def test_table_renders_with_alignment_only():
    html = render("| a | b |\n|:--|--:|\n| 1 | 2 |\n")
    assert html == (
        '<table>\n<thead>\n<tr>\n<th style="text-align:left">a</th>\n<th style="text-align:right">b</th>\n'
        '</tr>\n</thead>\n<tbody>\n<tr>\n<td style="text-align:left">1</td>\n<td style="text-align:right">2</td>\n'
        "</tr>\n</tbody>\n</table>\n"
    )


def test_fenced_code_is_highlighted_and_escaped():
    html = render('```python\nx = "<b>"\n```\n')
    assert html == (
        '<pre class="highlight"><code><span class="n">x</span> <span class="o">=</span> '
        '<span class="s2">"&lt;b&gt;"</span>\n</code></pre>\n'
    )


def test_unknown_language_is_escaped_without_highlighting():
    assert render("```nosuchlang\n<i>\n```\n") == '<pre class="highlight"><code>&lt;i&gt;\n</code></pre>\n'


def test_math_is_left_escaped_for_katex():
    rendered = markdown_render("Inline $a<b$ and\n\n$$\n\\frac{1}{2}\n$$\n")
    assert rendered.html == (
        '<p>Inline <span class="math-inline">a&lt;b</span> and</p>\n<div class="math-display">\\frac{1}{2}</div>\n'
    )
    assert (rendered.has_math, rendered.has_mermaid) == (True, False)


def test_math_fence_is_display_math():
    assert render("```math\nE=mc^2\n```\n") == '<div class="math-display">E=mc^2</div>\n'


def test_mermaid_fence_keeps_its_source_escaped():
    rendered = markdown_render("```mermaid\ngraph TD; A-->B;\n```\n")
    assert rendered.html == '<pre class="mermaid">graph TD; A--&gt;B;\n</pre>\n'
    assert (rendered.has_math, rendered.has_mermaid) == (False, True)


def test_headings_get_prefixed_ids_and_anchor_links():
    rendered = markdown_render("# Title *here*\n\n## Set `up`\n\nSee [the top](#title-here).\n")
    assert rendered.headings == (
        Heading(level=1, text="Title here", anchor="user-content-title-here"),
        Heading(level=2, text="Set up", anchor="user-content-set-up"),
    )
    assert '<h2 id="user-content-set-up">' in rendered.html
    assert '<a href="#user-content-title-here" rel="nofollow noopener noreferrer">the top</a>' in rendered.html


def test_footnotes_link_both_ways():
    html = render("Claim[^1].\n\n[^1]: Source.\n")
    assert '<a href="#user-content-fn1" id="user-content-fnref1" rel="nofollow noopener noreferrer">[1]</a>' in html
    assert '<li id="user-content-fn1" class="footnote-item">' in html


def test_relative_links_and_images_resolve_in_the_repository():
    links = LinkBase(page_prefix="/alice/tiny/blob/main/", file_prefix="/alice/tiny/resolve/main/", folder="docs")
    html = render("[guide](../guide.md#part) ![plot](img/plot.png) [out](../../etc/passwd)", links=links)
    assert html == (
        '<p><a href="/alice/tiny/blob/main/guide.md#user-content-part" rel="nofollow noopener noreferrer">guide</a> '
        '<img src="/alice/tiny/resolve/main/docs/img/plot.png" alt="plot"> '
        '<a rel="nofollow noopener noreferrer">out</a></p>\n'
    )


def test_relative_urls_are_dropped_without_a_base():
    assert render("[x](other.md) ![y](a.png)", links=None) == (
        '<p><a rel="nofollow noopener noreferrer">x</a> <img alt="y"></p>\n'
    )


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("<script>window.pwned = 1</script>ok", "ok"),
        ('<img src="https://e.org/a.png" onerror="window.pwned=1">', '<img src="https://e.org/a.png">'),
        ('<a href="javascript:alert(1)">x</a>', '<a rel="nofollow noopener noreferrer">x</a>'),
        ('<a href="JaVaScRiPt:alert(1)">x</a>', '<a rel="nofollow noopener noreferrer">x</a>'),
        ('<a href="data:text/html,<b>">x</a>', '<a rel="nofollow noopener noreferrer">x</a>'),
        ('<iframe src="https://e.org"></iframe>', ""),
        ("<svg onload=alert(1)><script>alert(1)</script></svg>", ""),
        (
            '<div style="position:fixed" class="button math-display" onclick="x()">z</div>',
            '<div class="math-display">z</div>',
        ),
        ('<form action="/logout"><button>go</button></form>', "go"),
        ("<style>body{display:none}</style>text", "text"),
        ('<object data="x.swf"></object><embed src="x">', ""),
    ],
)
def test_sanitizer_removes_active_content(source, expected):
    assert sanitize(source) == expected


def test_markdown_javascript_link_is_not_a_link():
    assert render("[bad](javascript:alert(1))") == "<p>[bad](javascript:alert(1))</p>\n"


def test_task_lists_are_disabled_checkboxes():
    html = render("- [x] done\n- [ ] todo\n")
    assert html == (
        '<ul class="contains-task-list">\n'
        '<li class="task-list-item"><input class="task-list-item-checkbox" checked="checked" type="checkbox" '
        'disabled=""> done</li>\n'
        '<li class="task-list-item"><input class="task-list-item-checkbox" type="checkbox" disabled=""> todo</li>\n'
        "</ul>\n"
    )


def test_cached_rendering_is_keyed_by_content_and_links():
    first = markdown_render_cached("# A", links=LINKS, content_id="sha-a")
    again = markdown_render_cached("# changed source, same id", links=LINKS, content_id="sha-a")
    other = markdown_render_cached("# B", links=LINKS, content_id="sha-b")
    assert again == first
    assert other.headings == (Heading(level=1, text="B", anchor="user-content-b"),)
