"""The real ``huggingface_hub`` + ``hf_xet`` client against a live hub whose CAS is ``registry.services.xet``.

Each test gets its own client shard cache (``HF_XET_CACHE``) and a fresh global Xet session: the
client deduplicates against shards it uploaded before, per CAS URL, and the live server's URL is the
same for the whole session while the database is emptied between tests.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.core.signals import request_started
from huggingface_hub.utils import _xet as hf_xet_utils

from registry.services.xet import xet_counters
from tests.support.hf import HubClient, hub_client


@pytest.fixture(autouse=True)
def _fresh_xet_client(tmp_path_factory, monkeypatch) -> None:
    monkeypatch.setenv("HF_XET_CACHE", str(tmp_path_factory.mktemp("hf-xet-cache")))
    monkeypatch.setattr(hf_xet_utils, "_GLOBAL_XET_HOLDER", hf_xet_utils.XetSessionHolder())


@pytest.fixture
def xet_hub(live_server, settings) -> HubClient:
    """alice with a write token and the repository ``alice/tiny``, on a hub answering preupload for Xet."""
    settings.HUB_UPLOAD_POLICY = "xet"
    hub = hub_client(live_server.url)
    hub.api.create_repo("tiny")
    return hub


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    query: str


@pytest.fixture
def requests_seen() -> Iterator[list[Seen]]:
    """Every request the live server handles during the test."""
    seen: list[Seen] = []

    def record(sender, environ=None, **kwargs):
        seen.append(Seen(environ["REQUEST_METHOD"], environ["PATH_INFO"], environ.get("QUERY_STRING", "")))

    request_started.connect(record)
    yield seen
    request_started.disconnect(record)


class CounterDelta:
    """The server's Xet counters relative to when the fixture was created."""

    def __init__(self) -> None:
        self._start = xet_counters()

    def __call__(self) -> dict[str, int]:
        now = xet_counters()
        return {name: now[name] - self._start[name] for name in now}

    def reset(self) -> None:
        self._start = xet_counters()


@pytest.fixture
def counters() -> CounterDelta:
    return CounterDelta()
