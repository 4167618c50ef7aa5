"""Splitting a README into front matter and body, and reading the YAML within bounds."""

# The located-character cases keep one case per line; E501 gives way to that here.
# ruff: noqa: E501

import json

import pytest

from registry.cards.frontmatter import MAX_YAML_BYTES, MAX_YAML_DEPTH, MAX_YAML_NODES, front_matter_read
from registry.cards.types import CardIssue

TOO_MANY_VALUES = (
    f"the front matter holds more than {MAX_YAML_NODES} values once its aliases are expanded;"
    " make it smaller or use fewer aliases"
)


def errors(front):
    return [(issue.field, issue.message) for issue in front.errors]


@pytest.mark.parametrize(
    ("text", "data", "body"),
    [
        ("---\nlicense: mit\n---\n# Title\n", {"license": "mit"}, "# Title\n"),
        ("---\r\nlicense: mit\r\ntags:\r\n- a\r\n---\r\nbody\r\n", {"license": "mit", "tags": ["a"]}, "body\r\n"),
        ("\ufeff---\nlicense: mit\n---\nbody", {"license": "mit"}, "body"),
        ("\ufeff---\r\nlicense: mit\r\n---\r\n", {"license": "mit"}, ""),
        # Leading blank lines are allowed before the opening fence, as on the Hub.
        ("\n\n---\nlicense: mit\n---\n\nbody", {"license": "mit"}, "\nbody"),
        # The closing fence may carry trailing spaces or tabs; the body may be missing altogether.
        ("---\nlicense: mit\n--- \t\nbody", {"license": "mit"}, "body"),
        ("---\nlicense: mit\n---", {"license": "mit"}, ""),
        # Only the first closing fence counts: a later --- is markdown (a rule).
        ("---\na: 1\n---\nx\n---\ny\n", {"a": 1}, "x\n---\ny\n"),
        # A fence right after the opening one starts the YAML (a document marker) when a later fence closes it,
        # which is how the Hub's expression cuts it.
        ("---\n---\nfoo: 1\n---\nbody", {"foo": 1}, "body"),
    ],
)
def test_front_matter_is_split_from_the_body(text, data, body):
    front = front_matter_read(text)
    assert front.errors == []
    assert front.data == data
    assert front.body == body


@pytest.mark.parametrize(
    "text",
    [
        "# Just markdown\n\nNo metadata.\n",
        "",
        "--- \nlicense: mit\n---\nbody",  # the opening fence must be exactly ---
        "text first\n---\nlicense: mit\n---\n",
        "----\nlicense: mit\n----\n",
    ],
)
def test_text_without_an_opening_fence_is_all_body(text):
    front = front_matter_read(text)
    assert (front.data, front.body, front.errors) == (None, text, [])


def test_byte_order_mark_is_dropped_from_a_body_without_metadata():
    assert front_matter_read("\ufeff# Title").body == "# Title"


@pytest.mark.parametrize(
    ("text", "body"),
    [("---\n---\nbody", "body"), ("---\n\n---\nbody", "body"), ("---\n# only a comment\n---\n", "")],
)
def test_empty_front_matter_has_no_data(text, body):
    front = front_matter_read(text)
    assert (front.data, front.body, front.errors) == (None, body, [])


def test_missing_closing_fence_is_an_error_naming_the_opening_line():
    text = "\n\n---\nlicense: mit\n# Title\n"
    front = front_matter_read(text)
    assert errors(front) == [
        ("yaml", "the front matter opened by the --- at line 3 is never closed; end it with a line made of ---")
    ]
    assert front.data is None
    assert front.body == text


def test_syntax_error_gives_the_readme_line_and_column():
    front = front_matter_read("\n---\nlicense: mit\ntags: [a, b\n---\nbody")
    assert errors(front) == [
        (
            "yaml",
            "invalid YAML at line 4, column 12: expected ',' or ']', but got '<stream end>'"
            " (while parsing a flow sequence started at line 4, column 7)",
        )
    ]
    assert front.body == "body"


def test_a_lone_carriage_return_does_not_end_the_closing_fence():
    # As in the Hub's expression: such a file has no front matter the client can see, so it is refused.
    front = front_matter_read("---\rlicense: mit\r---\rbody")
    assert errors(front) == [
        ("yaml", "the front matter opened by the --- at line 1 is never closed; end it with a line made of ---")
    ]


def test_yaml_is_read_by_the_clients_parser():
    # libyaml accepts this anchor name; PyYAML, which huggingface_hub uses, does not.
    front = front_matter_read("---\na: &x.y 1\nb: *x.y\n---\n")
    assert errors(front) == [
        (
            "yaml",
            "invalid YAML at line 2, column 6: expected alphabetic or numeric character, but found '.'"
            " (while scanning an anchor started at line 2, column 4)",
        )
    ]


def test_syntax_error_without_context():
    front = front_matter_read("---\nlicense: mit\n  bad: indent\n---\n")
    assert errors(front) == [("yaml", "invalid YAML at line 3, column 6: mapping values are not allowed here")]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("---\na: \x00b\n---\n", "invalid YAML at line 2, column 4: the character U+0000 is not allowed (special characters are not allowed)"),
        ("\n---\nx: 1\na: b\x07c\n---\n", "invalid YAML at line 4, column 5: the character U+0007 is not allowed (special characters are not allowed)"),
    ],
)  # fmt: skip
def test_characters_yaml_forbids_are_located(text, message):
    front = front_matter_read(text)
    assert errors(front) == [("yaml", message)]
    assert front.data is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("---\nreleased: 2024-13-45\n---\n", 'invalid YAML at line 2, column 11: "2024-13-45" cannot be read as a timestamp (month must be in 1..12); quote it to keep it as text'),
        ("---\n2024-02-30: x\n---\n", 'invalid YAML at line 2, column 1: "2024-02-30" cannot be read as a timestamp (day is out of range for month); quote it to keep it as text'),
        ("---\nx: !!int abc\n---\n", "invalid YAML at line 2, column 4: \"abc\" cannot be read as an int (invalid literal for int() with base 10: 'abc'); quote it to keep it as text"),
        ("---\nx: !!bool maybe\n---\n", 'invalid YAML at line 2, column 4: "maybe" cannot be read as a bool; quote it to keep it as text'),
        ("---\nx: !!int ''\n---\n", 'invalid YAML at line 2, column 4: "" cannot be read as an int; quote it to keep it as text'),
        ("---\nx: !!timestamp soon\n---\n", 'invalid YAML at line 2, column 4: "soon" cannot be read as a timestamp; quote it to keep it as text'),
    ],
)  # fmt: skip
def test_values_their_tag_cannot_hold_are_located(text, message):
    front = front_matter_read(text)
    assert errors(front) == [("yaml", message)]


def test_integers_past_the_digit_limit_are_refused():
    front = front_matter_read("---\nparameters: " + "7" * 5000 + "\n---\n")
    assert errors(front) == [
        (
            "yaml",
            f'invalid YAML at line 2, column 13: "{"7" * 77}..." cannot be read as an int (Exceeds the limit (4300 digits)'
            " for integer string conversion: value has 5000 digits; use sys.set_int_max_str_digits() to increase the"
            " limit); quote it to keep it as text",
        )
    ]


def test_unpaired_surrogates_are_refused_and_replaced_in_the_body():
    # A JSON body may carry "\ud800"; such a string cannot even be encoded as UTF-8.
    front = front_matter_read("---\na: 1\n---\nbody \ud800 end\n")
    assert errors(front) == [
        ("yaml", "README.md holds the unpaired surrogate U+D800 at line 4; it is not valid Unicode text")
    ]
    assert front.body == "---\na: 1\n---\nbody \ufffd end\n"


def test_python_tags_are_refused():
    front = front_matter_read("---\nx: !!python/object/apply:os.system [ls]\n---\n")
    assert errors(front) == [
        (
            "yaml",
            "invalid YAML at line 2, column 4: could not determine a constructor for the tag"
            " 'tag:yaml.org,2002:python/object/apply:os.system'",
        )
    ]


def test_duplicate_keys_are_errors_and_the_last_value_is_kept():
    front = front_matter_read("---\nlicense: mit\ntags: [a]\nlicense: apache-2.0\nx:\n  a: 1\n  a: 2\n---\n")
    assert errors(front) == [
        (
            "yaml",
            'the key "license" appears twice in one mapping, at line 2, column 1 and at line 4, column 1;'
            " keys must be unique (YAML keeps only the last value)",
        ),
        (
            "yaml",
            'the key "a" appears twice in one mapping, at line 6, column 3 and at line 7, column 3;'
            " keys must be unique (YAML keeps only the last value)",
        ),
    ]
    assert front.data == {"license": "apache-2.0", "tags": ["a"], "x": {"a": 2}}


def test_keys_brought_by_a_merge_may_be_overridden():
    front = front_matter_read("---\nbase: &base {a: 1, b: 2}\nthis:\n  <<: *base\n  b: 3\n---\n")
    assert front.errors == []
    assert front.data == {"base": {"a": 1, "b": 2}, "this": {"a": 1, "b": 3}}


def test_top_level_keys_must_be_strings():
    front = front_matter_read("---\n1: one\nlicense: mit\n---\n")
    assert errors(front) == [("yaml", "the top-level key 1 is not a string; metadata keys are names")]
    assert front.data == {"1": "one", "license": "mit"}


def test_values_are_made_json_serialisable():
    text = (
        "---\n"
        "released: 2024-01-31\n"
        "at: 2024-01-31 10:20:30\n"
        "score: .nan\n"
        "worst: -.inf\n"
        "kinds: !!set {b, a}\n"
        "blob: !!binary aGVsbG8=\n"
        "nested: {1: one, false: off, null: nothing, 2.5: half}\n"
        "---\n"
    )
    front = front_matter_read(text)
    assert front.errors == []
    assert front.data == {
        "released": "2024-01-31",
        "at": "2024-01-31T10:20:30",
        "score": "NaN",
        "worst": "-Infinity",
        "kinds": ["a", "b"],
        "blob": "aGVsbG8=",
        "nested": {"1": "one", "false": False, "null": "nothing", "2.5": "half"},
    }
    assert front.warnings == [
        CardIssue("score", "is not a finite number; it is kept as the string 'NaN'"),
        CardIssue("worst", "is not a finite number; it is kept as the string '-Infinity'"),
    ]
    assert json.loads(json.dumps(front.data, allow_nan=False)) == front.data


def test_front_matter_of_exactly_the_size_limit_is_read():
    value = "a" * (MAX_YAML_BYTES - len("x: "))
    front = front_matter_read(f"---\nx: {value}\n---\n")
    assert front.errors == []
    assert len(front.data["x"]) == MAX_YAML_BYTES - 3


def test_front_matter_over_the_size_limit_is_refused_unparsed():
    value = "é" * ((MAX_YAML_BYTES - 3) // 2 + 1)  # two bytes each in UTF-8
    front = front_matter_read(f"---\nx: {value}\n---\nbody")
    assert errors(front) == [
        ("yaml", f"the front matter is {MAX_YAML_BYTES + 1} bytes long; at most {MAX_YAML_BYTES} bytes are allowed")
    ]
    assert (front.data, front.body) == (None, "body")


def test_nesting_up_to_the_depth_limit_is_read():
    depth = MAX_YAML_DEPTH - 1  # the top-level mapping is the first level
    front = front_matter_read("---\nx: " + "[" * depth + "1" + "]" * depth + "\n---\n")
    assert front.errors == []
    value = front.data["x"]
    for _ in range(depth):
        value = value[0]
    assert value == 1


def test_nesting_past_the_depth_limit_is_refused_before_it_is_built():
    # Deep enough to exhaust the stack of a recursive parser; refused from the event stream instead.
    depth = 200_000
    front = front_matter_read("---\nx: " + "[" * depth + "]" * depth + "\n---\n")
    assert errors(front) == [
        ("yaml", f"the front matter nests more than {MAX_YAML_DEPTH} levels deep (at line 2, column 67); flatten it")
    ]


def test_alias_bomb_is_refused_without_expanding_it():
    # Ten levels of ten aliases each would expand to 10**10 values.
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * 10) + "]" for level in range(1, 10)]
    front = front_matter_read("---\n" + "\n".join(lines) + "\n---\n")
    assert errors(front) == [("yaml", TOO_MANY_VALUES)]


def test_a_few_aliases_are_fine():
    front = front_matter_read("---\ncommon: &common [a, b]\nfirst: *common\nsecond: *common\n---\n")
    assert front.errors == []
    assert front.data == {"common": ["a", "b"], "first": ["a", "b"], "second": ["a", "b"]}


def test_too_many_values_without_aliases_are_refused():
    front = front_matter_read("---\nx: [" + ",".join(["1"] * MAX_YAML_NODES) + "]\n---\n")
    assert errors(front) == [("yaml", TOO_MANY_VALUES)]


def test_alias_inside_its_own_anchor_is_refused():
    front = front_matter_read("---\nloop: &loop [1, *loop]\n---\n")
    assert errors(front) == [("yaml", "the alias *loop at line 2, column 17 refers to a node that contains it")]


def test_alias_to_an_unknown_anchor_is_refused():
    front = front_matter_read("---\na: *nowhere\n---\n")
    assert errors(front) == [("yaml", "the alias *nowhere at line 2, column 4 refers to no anchor defined before it")]


def test_top_level_scalar_or_list_is_returned_for_the_caller_to_refuse():
    assert front_matter_read("---\n- a\n- b\n---\n").data == ["a", "b"]
    assert front_matter_read("---\njust text\n---\n").data == "just text"
