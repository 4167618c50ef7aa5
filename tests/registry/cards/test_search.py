"""What the search index holds for a card: title, keywords, then the body as plain text, bounded."""

from registry.cards import MAX_SEARCH_TEXT_BYTES, card_parse, card_search_text

BODY = """# Tiny chat

A **small** chat model, see [the paper](https://arxiv.org/abs/2401.00001).

![diagram of the model](img.png)

<div align="center"><b>Bold</b> &amp; html</div>

- item one
- item `two`

| a | b |
|---|---|
| c | d |

```python
print("hi")
```
"""


def test_markdown_syntax_is_stripped_and_words_kept():
    card = card_parse(
        "---\ntags: [llm, chat]\npipeline_tag: text-generation\nlibrary_name: transformers\n---\n" + BODY,
        repo_type="model",
    )
    assert card_search_text(card) == (
        "Tiny chat\n"
        "llm chat text-generation transformers\n"
        "Tiny chat\n"
        "A small chat model, see the paper.\n"
        "diagram of the model\n"
        "Bold & html\n"
        "item one\n"
        "item two\n"
        "a\nb\nc\nd\n"
        'print("hi")'
    )


def test_declared_title_wins_over_the_first_heading():
    card = card_parse(
        "---\npretty_name: Tiny Stories\ntask_categories: [text-generation]\n---\n## Data\n\nShort stories.\n",
        repo_type="dataset",
    )
    assert card_search_text(card) == "Tiny Stories\ntext-generation\nData\nShort stories."


def test_card_without_title_or_keywords_is_its_body():
    card = card_parse("Just a line,\nwrapped.\n", repo_type="model")
    assert card_search_text(card) == "Just a line, wrapped."


def test_text_is_bounded_in_utf8_bytes_without_splitting_a_character():
    card = card_parse("€" * 200_000, repo_type="model")  # three bytes each
    text = card_search_text(card)
    assert text == "€" * (MAX_SEARCH_TEXT_BYTES // 3)
    assert len(text.encode("utf-8")) == MAX_SEARCH_TEXT_BYTES - 1


def test_only_the_start_of_a_huge_body_is_read():
    # A heading past the first million characters is never seen, so it cannot become the title.
    card = card_parse("x" * 1_000_000 + "\n\n# Late heading\n", repo_type="model")
    text = card_search_text(card)
    assert text == "x" * MAX_SEARCH_TEXT_BYTES


def test_text_from_a_card_with_unpaired_surrogates_is_valid_unicode():
    text = card_search_text(card_parse("# Title \ud800\n", repo_type="model"))
    assert text == "Title \ufffd\nTitle \ufffd"
    assert text.encode("utf-8") == b"Title \xef\xbf\xbd\nTitle \xef\xbf\xbd"
