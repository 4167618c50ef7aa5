"""Git object ids, .gitattributes matching and path validation, checked against the real git."""

import subprocess
from datetime import UTC, datetime, timedelta, timezone

import pytest

from registry.git.attributes import GitAttributes, default_gitattributes
from registry.git.objects import (
    MODE_FILE,
    MODE_TREE,
    Signature,
    TreeEntry,
    blob_oid,
    commit_oid,
    lfs_pointer,
    tree_oid,
)
from registry.git.paths import InvalidPath, folder_validate, path_validate


def git(cwd, *args, env=None, input=None) -> str:
    result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=True, env=env, input=input)
    return result.stdout.decode().strip()


def test_blob_tree_and_commit_ids_equal_gits(tmp_path):
    files = {
        "a.txt": b"hi",
        "sub/b.txt": b"nested\n",
        "sub-dir.txt": b"x",
        "sub.txt": b"",
        "z/y/x.bin": bytes(range(256)),
    }
    git(tmp_path, "init", "-q")
    for path, data in files.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_bytes(data)
        assert blob_oid(data) == git(tmp_path, "hash-object", path)
    git(tmp_path, "add", "-A")
    expected_tree = git(tmp_path, "write-tree")

    def tree_of(prefix: str) -> str:
        entries, subdirs = [], set()
        for path, data in files.items():
            if not path.startswith(prefix):
                continue
            rest = path[len(prefix) :]
            if "/" in rest:
                subdirs.add(rest.split("/", 1)[0])
            else:
                entries.append(TreeEntry(mode=MODE_FILE, name=rest, oid=blob_oid(data)))
        entries += [TreeEntry(mode=MODE_TREE, name=d, oid=tree_of(f"{prefix}{d}/")) for d in subdirs]
        return tree_oid(entries)

    assert tree_of("") == expected_tree

    when = datetime(2026, 5, 4, 3, 2, 1, tzinfo=timezone(timedelta(hours=2, minutes=30)))
    signature = Signature(name="Alice", email="alice@example.org", when=when)
    date = f"{int(when.timestamp())} +0230"
    env = {
        "GIT_AUTHOR_NAME": "Alice", "GIT_AUTHOR_EMAIL": "alice@example.org", "GIT_AUTHOR_DATE": date,
        "GIT_COMMITTER_NAME": "Alice", "GIT_COMMITTER_EMAIL": "alice@example.org", "GIT_COMMITTER_DATE": date,
        "PATH": "/usr/bin:/bin",
    }  # fmt: skip
    root = git(tmp_path, "commit-tree", expected_tree, "-m", "first", env=env)
    assert commit_oid(tree=expected_tree, parents=[], author=signature, committer=signature, message="first\n") == root
    child = git(tmp_path, "commit-tree", expected_tree, "-p", root, "-m", "second\n\nbody", env=env)
    ours = commit_oid(
        tree=expected_tree, parents=[root], author=signature, committer=signature, message="second\n\nbody\n"
    )
    assert ours == child


def test_lfs_pointer_matches_git_lfs_format():
    pointer = lfs_pointer(sha256="ab" * 32, size=1234)
    assert pointer == b"version https://git-lfs.github.com/spec/v1\noid sha256:" + b"ab" * 32 + b"\nsize 1234\n"


def test_signature_in_utc():
    when = datetime(2026, 1, 1, tzinfo=UTC)
    assert Signature(name="a<b>", email="e@x", when=when).encode() == "ab <e@x> 1767225600 +0000"


@pytest.mark.parametrize(
    ("path", "lfs"),
    [
        ("model.safetensors", True),
        ("deep/dir/weights.bin", True),
        ("data.parquet", True),
        ("saved_model/variables/x", True),
        ("other/saved_model/x", False),
        ("events.out.tfevents.123", True),
        ("README.md", False),
        ("config.json", False),
        ("archive.tar.gz", True),
    ],
)
def test_default_gitattributes(path, lfs):
    assert GitAttributes.from_bytes(default_gitattributes()).is_lfs(path) is lfs


def test_gitattributes_last_rule_wins_and_anchoring():
    attributes = GitAttributes(
        "*.txt filter=lfs\nkeep.txt -filter\n/top/*.csv filter=lfs\n# comment\n**/logs/** filter=lfs\n"
    )
    assert attributes.is_lfs("a/b.txt") is True
    assert attributes.is_lfs("keep.txt") is False
    assert attributes.is_lfs("top/x.csv") is True
    assert attributes.is_lfs("nested/top/x.csv") is False
    assert attributes.is_lfs("a/logs/b/c") is True


BAD_PATHS = [
    "../x", "a/../b", "/etc/passwd", "..\\x", "a\\b", "a//b", "a/", "", "./a", ".git/config", "a/\x00b", "x" * 5000,
]  # fmt: skip


@pytest.mark.parametrize("path", BAD_PATHS)
def test_bad_paths_are_refused(path):
    with pytest.raises(InvalidPath) as raised:
        path_validate(path)
    assert raised.value.status == 422


def test_good_paths_and_folders():
    assert path_validate("a/b c/ü.txt") == "a/b c/ü.txt"
    assert path_validate(".gitattributes") == ".gitattributes"
    assert folder_validate("sub/") == "sub"
    with pytest.raises(InvalidPath):
        folder_validate("/")
