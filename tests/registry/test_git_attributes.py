"""``registry.git.attributes`` decides which paths are LFS files exactly as git does: a table of
patterns and paths, each answered by the real ``git check-attr`` in a scratch repository."""

import subprocess
from pathlib import Path

import pytest

from registry.git.attributes import GitAttributes, default_gitattributes

PATTERNS = [
    "*.bin", "/top.txt", "data/*.csv", "docs/**/*.md", "**/cache/**", "weights/", "saved_model/**/*",
    "*.tar.*", "file?.dat", "[ab]*.npy", "nested/deep/exact.json", "*tfevents*", "logs/**",
]  # fmt: skip
PATHS = [
    "model.bin", "sub/model.bin", "top.txt", "sub/top.txt", "data/a.csv", "data/sub/a.csv", "docs/a.md",
    "docs/x/y/a.md", "a/cache/b/c.txt", "cache/x", "weights/w.pt", "saved_model/a/b", "saved_model/x",
    "pack.tar.gz", "pack.tar", "file1.dat", "file12.dat", "a1.npy", "c1.npy", "x/b.npy",
    "nested/deep/exact.json", "other/nested/deep/exact.json", "run/events.out.tfevents.1", "logs/a/b.txt",
    "README.md",
]  # fmt: skip


def _git_lfs_paths(tmp_path: Path, gitattributes: bytes, paths: list[str]) -> set[str]:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / ".gitattributes").write_bytes(gitattributes)
    result = subprocess.run(
        ["git", "-C", str(tmp_path), "check-attr", "filter", "--", *paths],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    return {line.split(": ")[0] for line in result.stdout.splitlines() if line.endswith(": filter: lfs")}


@pytest.mark.parametrize(
    "gitattributes",
    [
        "\n".join(f"{pattern} filter=lfs diff=lfs merge=lfs -text" for pattern in PATTERNS).encode(),
        # A later line takes the attribute back for some paths.
        b"*.bin filter=lfs\ndata/** filter=lfs\nsub/*.bin -filter\ndata/keep.csv !filter\n",
        default_gitattributes(),
    ],
    ids=["patterns", "later-lines-win", "defaults"],
)
def test_lfs_paths_are_the_ones_git_check_attr_reports(tmp_path, gitattributes):
    paths = [*PATHS, "data/keep.csv", "sub/x.bin", "data/sub/deep.bin", "model.safetensors", "a/b/c.gguf"]
    attributes = GitAttributes.from_bytes(gitattributes)
    assert {path for path in paths if attributes.is_lfs(path)} == _git_lfs_paths(tmp_path, gitattributes, paths)
