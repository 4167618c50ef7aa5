"""Repositories with content for page tests, built through the registry's services."""

from __future__ import annotations

import io

import pytest

from registry.choices import RepoType
from registry.models import Repo
from registry.services.commits import AddFile, CommitResult, DeleteFile, commit_create
from registry.services.repos import repo_create
from registry.storage import stage_bytes


def make_repo(owner, name: str, *, namespace=None, repo_type: RepoType = RepoType.MODEL, private: bool = False) -> Repo:
    return repo_create(
        user=owner, namespace=namespace or owner.namespace, name=name, repo_type=repo_type, private=private
    )


def commit_files(
    repo: Repo,
    user,
    files: dict[str, bytes],
    *,
    summary: str = "Add files",
    delete: tuple[str, ...] = (),
    branch: str = "main",
    description: str = "",
) -> CommitResult:
    operations = [AddFile(path=path, staged=stage_bytes(data)) for path, data in files.items()]
    operations += [DeleteFile(path=path) for path in delete]
    return commit_create(
        repo=repo, user=user, ref=f"refs/heads/{branch}", operations=operations, summary=summary,
        description=description,
    )  # fmt: skip


def card(metadata: str, body: str) -> bytes:
    """A README.md with YAML front matter."""
    return f"---\n{metadata.strip()}\n---\n{body}".encode()


def safetensors_bytes(tensors: dict[str, tuple[str, tuple[int, ...]]], metadata: dict[str, str] | None = None) -> bytes:
    """A real safetensors file (written by the safetensors library) with zero-filled tensors."""
    import numpy
    from safetensors.numpy import save

    dtypes = {"F32": numpy.float32, "F16": numpy.float16, "I64": numpy.int64}
    data = {name: numpy.zeros(shape, dtype=dtypes[dtype]) for name, (dtype, shape) in tensors.items()}
    return save(data, metadata=metadata)


def png_bytes() -> bytes:
    """A 1×1 PNG."""
    import struct
    import zlib

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    raw = io.BytesIO()
    raw.write(b"\x89PNG\r\n\x1a\n")
    raw.write(chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)))
    raw.write(chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")))
    raw.write(chunk(b"IEND", b""))
    return raw.getvalue()


@pytest.fixture
def fast_passwords(settings):
    """Page tests create many users; a cheap hasher keeps them fast (no test here is about hashing)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
