"""Reads behind the pages: safetensors headers, tree changes and line diffs, revision/path splitting."""

import json
import struct

import pytest

from registry.selectors.diffs import ChangeStatus, file_diff, tree_changes
from registry.selectors.revisions import revision_path_split
from registry.selectors.safetensors import SafetensorsError, safetensors_parameter_total, safetensors_summary
from registry.services.refs import branch_create, tag_create
from registry.trees import tree_lookup
from tests.frontend.builders import commit_files, fast_passwords, make_repo, safetensors_bytes  # noqa: F401
from tests.support.factories import make_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_passwords")]


@pytest.fixture
def alice():
    return make_user("alice")


def stored(alice, files: dict[str, bytes]):
    repo = make_repo(alice, "st")
    tree = commit_files(repo, alice, files).commit.tree_oid
    return {path: tree_lookup(tree, path) for path in files}


def raw_safetensors(header: dict, data: bytes = b"") -> bytes:
    encoded = json.dumps(header).encode()
    return struct.pack("<Q", len(encoded)) + encoded + data


def test_summary_of_a_real_file(alice):
    weights = safetensors_bytes({"a": ("F32", (3, 4)), "b": ("I64", (2,))}, metadata={"format": "np"})
    info = stored(alice, {"w.safetensors": weights})["w.safetensors"]
    summary = safetensors_summary(file=info)
    assert [(t.name, t.dtype, t.shape, t.parameters) for t in summary.tensors] == [
        ("a", "F32", (3, 4), 12), ("b", "I64", (2,), 2),
    ]  # fmt: skip
    assert (summary.parameters, summary.parameters_by_dtype, summary.metadata) == (14, {"F32": 12, "I64": 2},
                                                                                   {"format": "np"})  # fmt: skip


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"tiny", "The file is shorter than a safetensors header."),
        (struct.pack("<Q", 5) + b"{not}", "The header is not valid JSON: Expecting property name enclosed in "
                                          "double quotes: line 1 column 2 (char 1)."),
        (raw_safetensors([1]), "The header is not a JSON object."),
        (raw_safetensors({"__metadata__": {"n": 1}}), "__metadata__ must map strings to strings."),
        (raw_safetensors({"t": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 0]}}),
         "Tensor 't' has an invalid shape."),
        (raw_safetensors({"t": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}),
         "Tensor 't' has data offsets outside the file."),
        (raw_safetensors({"t": {"dtype": "F32", "shape": [2], "data_offsets": [0, 4]}}, b"\0" * 4),
         "Tensor 't' holds 4 bytes, not what its shape needs."),
        (struct.pack("<Q", 17 * 1024 * 1024) + b"{}", "The header is 17825792 bytes, more than this page reads."),
    ],
)  # fmt: skip
def test_summary_refuses_malformed_files(alice, content, message):
    info = stored(alice, {"bad.safetensors": content})["bad.safetensors"]
    with pytest.raises(SafetensorsError) as caught:
        safetensors_summary(file=info)
    assert str(caught.value) == message


def test_unknown_dtypes_are_listed_without_size_checks(alice):
    content = raw_safetensors({"q": {"dtype": "F4", "shape": [4], "data_offsets": [0, 2]}}, b"\0\0")
    info = stored(alice, {"q.safetensors": content})["q.safetensors"]
    assert safetensors_summary(file=info).parameters_by_dtype == {"F4": 4}


def test_parameter_total_skips_unreadable_shards(alice):
    files = stored(alice, {
        "a.safetensors": safetensors_bytes({"w": ("F32", (10,))}),
        "b.safetensors": safetensors_bytes({"w": ("F16", (5, 2))}),
        "c.safetensors": b"garbage!",
    })  # fmt: skip
    assert safetensors_parameter_total(files=list(files.values())) == 20
    assert safetensors_parameter_total(files=[files["c.safetensors"]]) is None


def test_tree_changes_skip_unchanged_subtrees(alice, django_assert_num_queries):
    from django.core.cache import cache

    repo = make_repo(alice, "deep")
    base = commit_files(repo, alice, {"keep/a/b/c.txt": b"same", "top.txt": b"1", "gone/x.txt": b"x"}).commit
    commit_files(repo, alice, {"top.txt": b"2"}, delete=("gone/x.txt",))
    head = commit_files(repo, alice, {"gone": b"now a file"}).commit
    cache.clear()
    with django_assert_num_queries(2):  # the root trees, then the 'gone' folder; 'keep' is never opened
        changes = tree_changes(old_tree=base.tree_oid, new_tree=head.tree_oid)
    assert [(c.path, c.status) for c in changes] == [
        ("gone", ChangeStatus.ADDED), ("gone/x.txt", ChangeStatus.DELETED), ("top.txt", ChangeStatus.MODIFIED),
    ]  # fmt: skip


def test_large_files_are_not_diffed(alice):
    repo = make_repo(alice, "large")
    base = commit_files(repo, alice, {"big.txt": b"x\n" * 10}).commit
    head = commit_files(repo, alice, {"big.txt": b"y\n" * 300_000}).commit
    (change,) = tree_changes(old_tree=base.tree_oid, new_tree=head.tree_oid)
    diff = file_diff(change=change)
    assert (diff.skipped, diff.lines) == ("too large", ())


@pytest.mark.parametrize(
    ("rest", "expected"),
    [
        ("main", ("main", "")),
        ("main/src/a.py", ("main", "src/a.py")),
        ("feature/x", ("feature/x", "")),
        ("feature/x/src/a.py", ("feature/x", "src/a.py")),
        ("v1.0/README.md", ("v1.0", "README.md")),
        ("refs/pr/3/README.md", ("refs/pr/3", "README.md")),
        ("0123abcd/dir/", ("0123abcd", "dir")),
    ],
)
def test_revision_path_split(alice, rest, expected):
    repo = make_repo(alice, "refs")
    branch_create(repo=repo, branch="feature/x")
    tag_create(repo=repo, tag="v1.0", revision="main")
    assert revision_path_split(repo=repo, rest=rest) == expected
