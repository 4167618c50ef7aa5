"""Checks shared by every kind of card: value shapes, repo ids, languages, licenses and closed vocabularies.

Each check reads one key of the metadata, records what is wrong in an ``Issues`` collector (a path and a
sentence saying what was found and what is allowed), and returns the normalised value, or an empty one when
the value cannot be used.
"""

import datetime
import difflib
import re
from dataclasses import dataclass, field
from typing import Any

from registry.cards import vocab
from registry.cards.iso639 import ISO_639_1, ISO_639_2_BIBLIOGRAPHIC, ISO_639_3, ISO_639_5
from registry.cards.types import CardIssue

MAX_LIST_ITEMS = {"tags": 200, "datasets": 500, "base_model": 100, "models": 500, "authors": 100}
MAX_LANGUAGES = 2000  # multilingual datasets list hundreds of languages
MAX_TEXT_LENGTH = 200  # one tag, author, license name...
MAX_REPO_PART_LENGTH = 96  # the Hub's limit on a namespace or a repo name

_REPO_PART = re.compile(r"[A-Za-z0-9_.-]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_LANGUAGE = re.compile(r"(?P<primary>[a-z]{2,3})(?P<subtags>(?:-[A-Za-z0-9]{2,8})*)")
_LANGUAGE_ANY_CASE = re.compile(r"([A-Za-z]{2,3})((?:[-_][A-Za-z0-9]{2,8})*)")
_LIBRARY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]*")
_URL = re.compile(r"https?://[^\s/]+\S*")


@dataclass
class Issues:
    """Collects the errors (which refuse a commit) and warnings (which do not) of one card."""

    errors: list[CardIssue] = field(default_factory=list)
    warnings: list[CardIssue] = field(default_factory=list)

    def error(self, path: str, message: str) -> None:
        self.errors.append(CardIssue(path, message))

    def warn(self, path: str, message: str) -> None:
        self.warnings.append(CardIssue(path, message))

    def report(self, path: str, problem: tuple[str, str] | None) -> bool:
        """Record a ('error' or 'warning', reason) problem, if any; tell whether the value may still be used."""
        if problem is None:
            return True
        severity, reason = problem
        if severity == "warning":
            self.warn(path, reason)
            return True
        self.error(path, reason)
        return False

    def count_under(self, path: str) -> int:
        """How many errors concern ``path`` or anything inside it."""
        return sum(
            1 for issue in self.errors if issue.field == path or issue.field.startswith((f"{path}.", f"{path}["))
        )


def quoted(text: str) -> str:
    """``text`` in double quotes for a message, cut to 80 characters so that a huge value stays readable."""
    return f'"{text}"' if len(text) <= 80 else f'"{text[:77]}..."'


def describe(value: Any) -> str:
    """How to name a found value in a message: 'the number 3', 'a list', 'the string "x"'."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the string {quoted(value)}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, datetime.date):  # a datetime is a date too
        return f"the date {value.isoformat()}"
    if isinstance(value, bytes):
        return "binary data"
    if isinstance(value, set | frozenset):
        return "a set"
    return f"a value of type {type(value).__name__}"


def _nudge_to_quote(value: Any) -> str:
    """Advice for scalars YAML did not keep as text."""
    if isinstance(value, bool):
        return " (YAML reads unquoted yes, no, on, off, true and false as booleans: put the text in quotes)"
    if isinstance(value, int | float | datetime.date):
        return " (put it in quotes to keep it as text)"
    return ""


def _suggest(value: str, choices) -> str:
    candidates = {choice.lower(): choice for choice in choices}
    close = difflib.get_close_matches(value.lower(), list(candidates), n=1, cutoff=0.75)
    return f' (did you mean "{candidates[close[0]]}"?)' if close else ""


def text_problem(value: str, *, max_length: int = MAX_TEXT_LENGTH) -> str | None:
    """Why a short free text (a tag, an author) cannot be used, if it cannot."""
    if not value.strip():
        return "is empty"
    if len(value) > max_length:
        return f"is {len(value)} characters long; at most {max_length} are allowed"
    if _CONTROL.search(value):
        return "contains control characters (such as a line break or a tab); write it on one line"
    return None


def read_string(metadata: dict, key: str, issues: Issues, *, what: str) -> str | None:
    """A key whose value must be one string (``what`` names it in messages)."""
    value = metadata.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        issues.error(key, f"must be {what} (a single string); found {describe(value)}{_nudge_to_quote(value)}")
        return None
    return value


def read_string_list(metadata: dict, key: str, issues: Issues, *, max_items: int) -> list[tuple[str, str]]:
    """A key whose value is a string or a list of strings: the (path, string) pairs it holds.

    Each item that is not a string is an error at its own path; duplicates are dropped, keeping the first.
    """
    value = metadata.get(key)
    if value is None:
        return []
    if isinstance(value, str):
        return [(key, value)]
    if not isinstance(value, list):
        issues.error(key, f"must be a string or a list of strings; found {describe(value)}{_nudge_to_quote(value)}")
        return []
    if len(value) > max_items:
        issues.error(key, f"lists {len(value)} values; at most {max_items} are allowed")
        return []
    pairs: list[tuple[str, str]] = []
    seen: set[str] = set()
    for index, item in enumerate(value):
        path = f"{key}[{index}]"
        if not isinstance(item, str):
            issues.error(path, f"must be a string; found {describe(item)}{_nudge_to_quote(item)}")
        elif item not in seen:
            seen.add(item)
            pairs.append((path, item))
    return pairs


def read_texts(metadata: dict, key: str, issues: Issues) -> list[str]:
    """Free texts such as tags or authors: each one non-empty, on one line, of sane length."""
    texts = []
    for path, value in read_string_list(metadata, key, issues, max_items=MAX_LIST_ITEMS[key]):
        problem = text_problem(value)
        if problem:
            issues.error(path, problem)
        else:
            texts.append(value)
    return texts


def repo_id_problem(value: str) -> str | None:
    """Why ``value`` is not a repo id by the Hub's rules, if it is not.

    A repo id is ``name`` or ``namespace/name``; each part is 1 to 96 of ``[A-Za-z0-9_.-]``, starts and ends
    with a letter, digit or underscore, and holds no ``--`` or ``..``; the id does not end in ``.git``.
    """
    if value.startswith(("/", "./", "../", "~")) or "\\" in value or re.match(r"[A-Za-z]:[\\/]", value):
        return "it looks like a local path"
    if "://" in value:
        return "it is a URL"
    parts = value.split("/")
    if len(parts) > 2:
        return "it has more than one '/'"
    for part in parts:
        if not part:
            return "it has an empty part around '/'"
        if len(part) > MAX_REPO_PART_LENGTH:
            return f"a part is {len(part)} characters long; at most {MAX_REPO_PART_LENGTH} are allowed"
        if not _REPO_PART.fullmatch(part):
            return "it has characters other than letters, digits, '-', '_' and '.'"
        if part[0] in "-." or part[-1] in "-.":
            return "a part starts or ends with '-' or '.'"
    if "--" in value or ".." in value:
        return "it contains '--' or '..'"
    if value.endswith(".git"):
        return "it ends with '.git'"
    return None


def read_repo_ids(metadata: dict, key: str, issues: Issues, *, kind: str) -> list[str]:
    """Repo ids of ``kind`` ('model' or 'dataset'), as a string or a list."""
    ids = []
    for path, value in read_string_list(metadata, key, issues, max_items=MAX_LIST_ITEMS[key]):
        problem = repo_id_problem(value)
        if problem:
            issues.error(
                path,
                f"{quoted(value)} is not a {kind} id: {problem}. Use the id of a {kind} repo on this hub,"
                ' "name" or "namespace/name" (letters, digits, "-", "_" and "."; at most 96 characters a part)',
            )
        else:
            ids.append(value)
    return ids


def language_problem(value: str) -> tuple[str, str] | None:
    """('error' or 'warning', reason) when ``value`` is not a language code the registry knows."""
    if value in vocab.SPECIAL_LANGUAGES:
        return None
    match = _LANGUAGE.fullmatch(value)
    if match is None:
        loose = _LANGUAGE_ANY_CASE.fullmatch(value)
        if loose is not None:
            fixed = loose.group(1).lower() + loose.group(2).replace("_", "-")
            if _LANGUAGE.fullmatch(fixed):
                return "error", f'{quoted(value)} is not written as a language code: write "{fixed}"'
        return "error", (
            f"{quoted(value)} is not a language code. Use an ISO 639-1, 639-2 or 639-3 code (two or three lowercase"
            ' letters, such as "en" or "fra"), optionally followed by a region ("pt-BR"), or "multilingual"'
            ' or "code"'
        )
    primary = match.group("primary")
    known = (
        primary in ISO_639_1
        if len(primary) == 2
        else primary in ISO_639_3 or primary in ISO_639_2_BIBLIOGRAPHIC or primary in ISO_639_5
    )
    if not known:
        return "warning", f"{quoted(primary)} is not an ISO 639 language code the registry knows; check the spelling"
    return None


def read_languages(metadata: dict, issues: Issues) -> list[str]:
    pairs = read_string_list(metadata, "language", issues, max_items=MAX_LANGUAGES)
    return [value for path, value in pairs if issues.report(path, language_problem(value))]


def license_problem(value: str) -> str | None:
    if value in vocab.LICENSE_IDS:
        return None
    respelled = re.sub(r"[\s_]+", "-", value.strip().lower())
    suggestion = f' (did you mean "{respelled}"?)' if respelled in vocab.LICENSE_IDS else ""
    suggestion = suggestion or _suggest(value, vocab.LICENSE_IDS)
    return (
        f"{quoted(value)} is not a license id the registry knows{suggestion}. Use one of "
        + ", ".join(sorted(vocab.LICENSE_IDS - {"other"}))
        + ', or "other" together with license_name and license_link'
    )


def read_licenses(metadata: dict, issues: Issues, *, several: bool) -> list[str]:
    """The license ids: one for most cards, one or a list for datasets (``several``)."""
    if several:
        pairs = read_string_list(metadata, "license", issues, max_items=20)
    else:
        single = read_string(metadata, "license", issues, what="a license id")
        pairs = [] if single is None else [("license", single)]
    licenses = []
    for path, license_id in pairs:
        problem = license_problem(license_id)
        if problem:
            issues.error(path, problem)
        else:
            licenses.append(license_id)
    if "other" in licenses and metadata.get("license_name") is None:
        issues.warn(
            "license_name",
            'is missing: a card whose license is "other" should name it in license_name (a short id such as'
            ' "my-license-1.0") and link its text in license_link',
        )
    return licenses


def read_license_name(metadata: dict, issues: Issues) -> str | None:
    name = read_string(metadata, "license_name", issues, what="the id of the license")
    if name is not None and not re.fullmatch(r"[a-z0-9][a-z0-9._+-]*", name):
        issues.warn(
            "license_name",
            f'{quoted(name)} should be a short lowercase id such as "my-license-1.0"'
            ' (letters, digits, ".", "_", "+", "-")',
        )
    return name


def read_license_link(metadata: dict, issues: Issues) -> str | None:
    link = read_string(metadata, "license_link", issues, what="a URL or the path of a file in this repo")
    if link is None:
        return None
    is_url = _URL.fullmatch(link) is not None
    is_repo_path = (
        "://" not in link
        and not link.startswith("/")
        and "\\" not in link
        and ".." not in link.split("/")
        and text_problem(link) is None
        and " " not in link
    )
    if not (is_url or is_repo_path):
        issues.error(
            "license_link",
            f"{quoted(link)} must be an http(s) URL or the path of a file in this repo,"
            ' such as "LICENSE" or "LICENSE.md"',
        )
        return None
    return link


def read_choice(metadata: dict, key: str, issues: Issues, *, choices, what: str) -> str | None:
    """A key whose value must be one of a short closed list of strings."""
    value = read_string(metadata, key, issues, what=what)
    if value is None:
        return None
    if value not in choices:
        issues.error(key, f"{quoted(value)} is not allowed{_suggest(value, choices)}; use one of " + ", ".join(choices))
        return None
    return value


def task_problem(value: str) -> tuple[str, str] | None:
    """('error' or 'warning', reason) when ``value`` is not a task id of the Hub's taxonomy."""
    if value in vocab.PIPELINE_TAG_SET:
        return None
    if value in vocab.RETIRED_PIPELINE_TAGS:
        return "warning", f'{quoted(value)} is a retired task id; use "{vocab.RETIRED_PIPELINE_TAGS[value]}"'
    return "error", (
        f"{quoted(value)} is not a known task id{_suggest(value, vocab.PIPELINE_TAGS)}. Use one of "
        + ", ".join(vocab.PIPELINE_TAGS)
    )


def read_pipeline_tag(metadata: dict, issues: Issues) -> str | None:
    value = read_string(metadata, "pipeline_tag", issues, what="a task id")
    if value is None or not issues.report("pipeline_tag", task_problem(value)):
        return None
    return value


def read_library_name(metadata: dict, issues: Issues) -> str | None:
    value = read_string(metadata, "library_name", issues, what="a library id")
    if value is None:
        return None
    if not _LIBRARY.fullmatch(value) or len(value) > 100:
        issues.error(
            "library_name",
            f'{quoted(value)} is not a library id: use letters, digits, ".", "_", "+" and "-", such as "transformers"',
        )
        return None
    return value
