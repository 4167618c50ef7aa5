"""The hub's side of the engine: its address and token, the model keys it is sent, the resolver
the engine process uses to turn a key into a snapshot folder, and the one client.

A key is ``<repo pk>@<commit oid>``: immutable, so the engine may cache the model under it.
The token is derived from ``SECRET_KEY``, which the web and engine processes share; the engine
refuses requests without it (it can read private models, so its port must not be public either).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings
from django.db import close_old_connections

from common.errors import HubError
from registry.models import Repo
from registry.snapshots import snapshot_materialize
from training_runner.engine.client import EngineClient
from training_runner.engine.errors import EngineError, ModelUnavailable
from training_runner.inference.errors import hub_error


def engine_token() -> str:
    return hmac.new(settings.SECRET_KEY.encode(), b"hub-inference-engine", hashlib.sha256).hexdigest()


def model_key(*, repo: Repo, commit_oid: str) -> str:
    return f"{repo.pk}@{commit_oid}"


def engine_resolve(key: str) -> Path:
    """The snapshot folder of ``key`` (runs in the engine process, on its request threads)."""
    pk, _, oid = key.partition("@")
    try:
        repo = Repo.objects.filter(pk=int(pk)).first()
        if repo is None:
            raise ModelUnavailable(f"no repository {pk}")
        return snapshot_materialize(repo=repo, commit_oid=oid, root=Path(settings.HUB_INFERENCE_CACHE_DIR))
    except ValueError:
        raise ModelUnavailable(f"malformed model key {key!r}") from None
    except HubError as error:  # the commit is gone from the repository
        raise ModelUnavailable(error.message) from None
    finally:
        close_old_connections()


def _client() -> EngineClient:
    return EngineClient(settings.HUB_INFERENCE_ENGINE_URL, token=engine_token())


def engine_call(path: str, body: dict) -> dict:
    try:
        return _client().call(path, body)
    except EngineError as error:
        raise hub_error(error) from None


def engine_stream(path: str, body: dict) -> Iterator[dict]:
    """Events of a streamed engine response; engine errors become hub errors."""
    stream = _client().stream(path, body)
    try:
        yield from stream
    except EngineError as error:
        raise hub_error(error) from None
    finally:
        stream.close()
