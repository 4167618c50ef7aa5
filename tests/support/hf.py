"""Helpers for tests that drive the real huggingface_hub client against a live server."""

from __future__ import annotations

import os
from dataclasses import dataclass

from huggingface_hub import HfApi

from tests.support.factories import make_token, make_user


@dataclass
class HubClient:
    url: str
    token: str
    api: HfApi
    user: object


def hub_client(live_server_url: str, username: str = "alice") -> HubClient:
    user = make_user(username)
    token = make_token(user, role="write")
    return HubClient(url=live_server_url, token=token, api=HfApi(endpoint=live_server_url, token=token), user=user)


def random_bytes(size: int, seed: int = 0) -> bytes:
    import random

    return random.Random(seed).randbytes(size)


def write_tree(root, files: dict[str, bytes]) -> None:
    for path, data in files.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


def read_tree(root) -> dict[str, bytes]:
    result = {}
    for dirpath, _dirnames, filenames in os.walk(root):
        for filename in filenames:
            full = os.path.join(dirpath, filename)
            rel = os.path.relpath(full, root).replace(os.sep, "/")
            if rel.startswith(".cache/"):
                continue
            with open(full, "rb") as handle:
                result[rel] = handle.read()
    return result
