"""Splitting a README into YAML front matter and markdown body, and reading the YAML safely.

The split follows the Hub's own rule (the expression huggingface_hub's ``repocard.REGEX_YAML_BLOCK`` mirrors):
optional leading whitespace, a line that is exactly ``---``, the YAML, then the first line made of ``---``
(trailing spaces or tabs allowed), so that wherever the client finds front matter the registry cuts the same.
Line breaks may be ``\\n`` or ``\\r\\n``; a leading byte order mark is dropped. Unlike the Hub, an opening fence
with no closing one is refused instead of being rendered as text, and an opening fence followed at once by the
closing one (and no other fence) is read as empty metadata.

Reading is bounded whatever the input: the YAML may be at most ``MAX_YAML_BYTES``; collections may nest at
most ``MAX_YAML_DEPTH`` deep; and the document, with every alias expanded, may hold at most ``MAX_YAML_NODES``
values. These are checked on the event stream before any object is built, so an alias bomb ("billion laughs")
or a deeply nested flow collection costs one linear pass and is refused, never expanded.

The values are built by PyYAML's pure-Python ``SafeLoader``, the very loader huggingface_hub's ``yaml.safe_load``
uses, so that the registry accepts exactly the YAML the client reads and reports the client's own syntax
messages. libyaml (faster, but not identical: it accepts some anchor names the Python scanner refuses) only
runs the bounds check; where it finds an error, the check runs again with the Python parser, whose verdict
counts.
"""

import base64
import datetime
import math
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from registry.cards.checks import quoted
from registry.cards.types import CardIssue

MAX_YAML_BYTES = 1024 * 1024
MAX_YAML_DEPTH = 64
MAX_YAML_NODES = 50_000

_YAML_FIELD = "yaml"
_LEADING_SPACE = re.compile(r"\s*")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_SURROGATE = re.compile("[\ud800-\udfff]")
_OPENING_FENCE = re.compile(r"---(?:\r\n|\r|\n)")
# The closing fence: a line break, ---, optional spaces or tabs, then a line break or the end. As in the
# Hub's expression, a lone \r may end the opening fence but not the closing one.
_CLOSING_FENCE = re.compile(r"(?:\r\n|\r|\n)---[ \t]*(?:\r\n|\n|\Z)")
# A closing fence right after the opening one (no YAML at all), which the Hub's expression cannot see.
_IMMEDIATE_CLOSING_FENCE = re.compile(r"---[ \t]*(?:\r\n|\n|\Z)")

# The bounds check only needs events; libyaml gives them about twenty times faster.
_FastEventLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class FrontMatter:
    """The result of reading a README's front matter.

    ``raw`` is the parsed YAML as ``yaml.safe_load`` gives it, which is what huggingface_hub sees (dates,
    floats such as NaN) and so what the keys are checked on; ``data`` is the same made JSON-serialisable, to
    be stored. Both are ``None`` when the front matter is absent, empty or unreadable. ``errors``/``warnings``
    say what went wrong at the level of the document; the keys themselves are checked elsewhere.
    """

    data: Any
    body: str
    errors: list[CardIssue] = field(default_factory=list)
    warnings: list[CardIssue] = field(default_factory=list)
    raw: Any = None


def front_matter_read(text: str) -> FrontMatter:
    """Split ``text`` and parse its front matter, never raising on any content."""
    if text.startswith("\ufeff"):
        text = text[1:]
    surrogate = _SURROGATE.search(text)
    if surrogate is not None:
        # Only a str decoded leniently (JSON escapes, surrogateescape) can hold one; it is not Unicode text.
        line = _line_of(text, surrogate.start())
        issue = CardIssue(
            _YAML_FIELD,
            f"README.md holds the unpaired surrogate U+{ord(surrogate.group()):04X} at line {line};"
            " it is not valid Unicode text",
        )
        return FrontMatter(data=None, body=_SURROGATE.sub("\ufffd", text), errors=[issue])
    start = _LEADING_SPACE.match(text).end()
    opening = _OPENING_FENCE.match(text, start)
    if opening is None:
        return FrontMatter(data=None, body=text)
    yaml_start = opening.end()
    closing = _CLOSING_FENCE.search(text, yaml_start)
    if closing is None:
        immediate = _IMMEDIATE_CLOSING_FENCE.match(text, yaml_start)
        if immediate is not None:  # "---" twice: empty metadata (the Hub renders both as rules)
            return FrontMatter(data=None, body=text[immediate.end() :])
        line = _line_of(text, start)
        issue = CardIssue(
            _YAML_FIELD,
            f"the front matter opened by the --- at line {line} is never closed; end it with a line made of ---",
        )
        return FrontMatter(data=None, body=text, errors=[issue])
    body = text[closing.end() :]
    source = text[yaml_start : closing.start()]
    size = len(source.encode("utf-8"))
    if size > MAX_YAML_BYTES:
        issue = CardIssue(
            _YAML_FIELD, f"the front matter is {size} bytes long; at most {MAX_YAML_BYTES} bytes are allowed"
        )
        return FrontMatter(data=None, body=body, errors=[issue])
    first_line = _line_of(text, yaml_start)
    return _parse(source, first_line=first_line, body=body)


def _line_of(text: str, offset: int) -> int:
    """The 1-based line number of ``offset`` in ``text``."""
    return len(_LINE_BREAK.findall(text, 0, offset)) + 1


def _parse(source: str, *, first_line: int, body: str) -> FrontMatter:
    def at(mark: yaml.Mark) -> str:
        return f"line {mark.line + first_line}, column {mark.column + 1}"

    try:
        problem = _shape_problem(source, at)
        if problem is not None:
            return FrontMatter(data=None, body=body, errors=[CardIssue(_YAML_FIELD, problem)])
        loader = _Loader(source)
        try:
            data = loader.get_single_data()
            duplicates = loader.duplicate_keys
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        return FrontMatter(data=None, body=body, errors=[_syntax_issue(exc, at)])
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow, located by offset only
        before = source[: exc.position]
        line = len(_LINE_BREAK.findall(before)) + first_line
        column = exc.position - max(before.rfind("\n"), before.rfind("\r"))
        issue = CardIssue(
            _YAML_FIELD,
            f"invalid YAML at line {line}, column {column}: the character U+{exc.character:04X} is not allowed"
            f" ({exc.reason})",
        )
        return FrontMatter(data=None, body=body, errors=[issue])

    errors = [
        CardIssue(
            _YAML_FIELD,
            f"the key {_quote(key)} appears twice in one mapping, at {at(first)} and at {at(again)};"
            " keys must be unique (YAML keeps only the last value)",
        )
        for key, first, again in duplicates
    ]
    warnings: list[CardIssue] = []
    if isinstance(data, dict):
        top_level_errors = [
            CardIssue(_YAML_FIELD, f"the top-level key {_quote(key)} is not a string; metadata keys are names")
            for key in data
            if not isinstance(key, str)
        ]
        errors.extend(top_level_errors)
    return FrontMatter(data=_jsonable(data, "", warnings), body=body, errors=errors, warnings=warnings, raw=data)


def _syntax_issue(exc: yaml.MarkedYAMLError, at) -> CardIssue:
    mark = exc.problem_mark or exc.context_mark
    where = f" at {at(mark)}" if mark is not None else ""
    message = f"invalid YAML{where}: {exc.problem or exc.context}"
    if exc.context and exc.problem:
        context_where = f" started at {at(exc.context_mark)}" if exc.context_mark is not None else ""
        message += f" ({exc.context}{context_where})"
    return CardIssue(_YAML_FIELD, message)


def _shape_problem(source: str, at) -> str | None:
    try:
        return _shape_problem_with(_FastEventLoader, source, at)
    except yaml.YAMLError:
        if _FastEventLoader is yaml.SafeLoader:
            raise
        return _shape_problem_with(yaml.SafeLoader, source, at)  # the client's parser has the last word


def _shape_problem_with(loader_class, source: str, at) -> str | None:
    """Walk the event stream once and say why the document is too deep or too large, if it is.

    Sizes are counted with aliases expanded: the size of each anchored node is recorded when it ends, and an
    alias adds that size. An alias to a node that is still open would make the document infinite.
    """
    depth = 0
    nodes = 0
    open_nodes: list[tuple[str | None, int]] = []  # (anchor, count when it started)
    anchored_sizes: dict[str, int] = {}
    for event in yaml.parse(source, Loader=loader_class):
        if isinstance(event, yaml.AliasEvent):
            if any(anchor == event.anchor for anchor, _ in open_nodes):
                return f"the alias *{event.anchor} at {at(event.start_mark)} refers to a node that contains it"
            if event.anchor not in anchored_sizes:
                return f"the alias *{event.anchor} at {at(event.start_mark)} refers to no anchor defined before it"
            nodes += anchored_sizes[event.anchor]
        elif isinstance(event, yaml.ScalarEvent):
            nodes += 1
            if event.anchor is not None:
                anchored_sizes[event.anchor] = 1
        elif isinstance(event, yaml.CollectionStartEvent):
            nodes += 1
            depth += 1
            if depth > MAX_YAML_DEPTH:
                return (
                    f"the front matter nests more than {MAX_YAML_DEPTH} levels deep"
                    f" (at {at(event.start_mark)}); flatten it"
                )
            open_nodes.append((event.anchor, nodes))
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
            anchor, started = open_nodes.pop()
            if anchor is not None:
                anchored_sizes[anchor] = nodes - started + 1
        if nodes > MAX_YAML_NODES:
            return (
                f"the front matter holds more than {MAX_YAML_NODES} values once its aliases are expanded;"
                " make it smaller or use fewer aliases"
            )
    return None


class _Loader(yaml.SafeLoader):
    """A safe loader that records keys repeated within one mapping instead of silently keeping the last."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicate_keys: list[tuple[Any, yaml.Mark, yaml.Mark]] = []

    def construct_object(self, node, deep=False):
        # The scalar constructors raise plain exceptions on values their tag cannot hold (a 13th month, an int
        # past Python's digit limit, !!bool maybe); give them the node's position like any other YAML error.
        try:
            return super().construct_object(node, deep=deep)
        except yaml.YAMLError:
            raise
        except (ValueError, TypeError, LookupError, AttributeError, OverflowError) as exc:
            kind = node.tag.rsplit(":", 1)[-1]
            article = "an" if kind[:1] in ("a", "e", "i", "o", "u") else "a"
            shown = quoted(node.value) if isinstance(node.value, str) else "the value"
            detail = f" ({exc})" if isinstance(exc, ValueError) else ""
            problem = f"{shown} cannot be read as {article} {kind}{detail}; quote it to keep it as text"
            raise yaml.constructor.ConstructorError(None, None, problem, node.start_mark) from exc

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            # Only the keys written in this mapping: keys brought in by a merge (<<) may be overridden.
            seen: dict[Any, yaml.Mark] = {}
            for key_node, _ in node.value:
                if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node)
                if key in seen:
                    self.duplicate_keys.append((key, seen[key], key_node.start_mark))
                else:
                    seen[key] = key_node.start_mark
        return super().construct_mapping(node, deep=deep)


def _quote(key: Any) -> str:
    return quoted(key) if isinstance(key, str) else repr(key)


def _json_key(key: Any) -> str:
    if isinstance(key, str):
        return key
    if isinstance(key, bool):
        return "true" if key else "false"
    if key is None:
        return "null"
    return str(key)


def json_value(value: Any) -> Any:
    """``value`` made of JSON types only (see ``_jsonable``), without reporting anything."""
    return _jsonable(value, "", [])


def _jsonable(value: Any, path: str, warnings: list[CardIssue]) -> Any:
    """A copy of ``value`` made of JSON types only.

    Dates become ISO 8601 strings, binary values base64 text, sets sorted lists and non-string keys their
    JSON spelling; NaN and infinities (which strict JSON has no spelling for) become strings, with a warning.
    """
    if isinstance(value, dict):
        return {
            _json_key(key): _jsonable(item, f"{path}.{_json_key(key)}" if path else _json_key(key), warnings)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [_jsonable(item, f"{path}[{index}]", warnings) for index, item in enumerate(value)]
    if isinstance(value, set | frozenset):
        return sorted((_jsonable(item, path, warnings) for item in value), key=repr)
    if isinstance(value, float) and not math.isfinite(value):
        spelled = "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
        warnings.append(CardIssue(path or _YAML_FIELD, f"is not a finite number; it is kept as the string {spelled!r}"))
        return spelled
    if isinstance(value, datetime.date):  # datetime.datetime is a date too
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return value
