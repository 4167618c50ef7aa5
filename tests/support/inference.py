"""Live inference for tests: the engine as a real ``manage.py inference_engine`` process, and the
hub's two ASGI applications under uvicorn (the web's, ``config.asgi``, which passes
``/playground/`` on to the playground process's, ``config.playground_asgi``), all on loopback ports."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from registry.choices import RepoType
from registry.models import Repo
from registry.services.commits import AddFile, commit_create
from registry.services.repos import repo_create
from registry.storage import stage_bytes
from tests.support.processes import REPO_ROOT, stop_process, subprocess_env, wait_until
from tests.support.tiny_models import write_decoder, write_encoder
from training_runner.engine.client import EngineClient, EngineUnavailable
from training_runner.inference.services.playgrounds import playground_set


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def engine_process(*, cache_dir: Path) -> Iterator[tuple[str, subprocess.Popen]]:
    """A running engine process on the test database; yields its URL and the process."""
    from training_runner.inference.engine import engine_token

    port = free_port()
    command = [sys.executable, "manage.py", "inference_engine", "--host", "127.0.0.1", "--port", str(port)]
    env = subprocess_env(HUB_INFERENCE_CACHE_DIR=str(cache_dir), HUB_INFERENCE_THREADS="1")
    process = subprocess.Popen(
        command, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    url = f"http://127.0.0.1:{port}"
    client = EngineClient(url, token=engine_token(), timeout=5)

    def healthy() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"the engine exited: {process.stdout.read()}")
        try:
            return client.health()["status"] == "ok"
        except EngineUnavailable:
            return False

    try:
        wait_until(healthy, timeout=60, what="the inference engine")
        yield url, process
    finally:
        stop_process(process)
        process.stdout.close()


@contextlib.contextmanager
def asgi_server(application) -> Iterator[str]:
    """An ASGI application under uvicorn, in a thread of this process, so it shares the test
    database and settings overrides."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(application, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    wait_until(up, timeout=60, what="uvicorn")
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=20)


@contextlib.contextmanager
def hub_servers() -> Iterator[str]:
    """The playground process's application and the web's in front of it (``HUB_PLAYGROUND_URL``);
    yields the web's URL."""
    from django.test import override_settings

    from config.asgi import application as web
    from config.playground_asgi import application as playgrounds

    with (
        asgi_server(playgrounds) as playground_url,
        override_settings(HUB_PLAYGROUND_URL=playground_url),
        asgi_server(web) as url,
    ):
        yield url


def publish_model(
    user, name: str, model_dir: Path, *, private: bool = False, enable: bool = True, namespace=None
) -> Repo:
    """A model repository holding ``model_dir``'s files, with inference switched on."""
    namespace = namespace or user.namespace
    repo = repo_create(user=user, namespace=namespace, name=name, repo_type=RepoType.MODEL, private=private)
    operations = [AddFile(path=p.name, staged=stage_bytes(p.read_bytes())) for p in sorted(model_dir.iterdir())]
    commit_create(repo=repo, user=user, ref="refs/heads/main", operations=operations, summary="Add the model")
    if enable:
        playground_set(user=user, namespace=namespace.name, name=name, enabled=True)
    repo.refresh_from_db()
    return repo


# ----------------------------------------------------------------- fixtures (imported by conftests)


@pytest.fixture(scope="session")
def model_dirs(tmp_path_factory):
    root = tmp_path_factory.mktemp("inference-models")
    return {
        "llama": write_decoder(root / "llama"),
        "nochat": write_decoder(root / "nochat", chat=False, seed=2),
        "llama2": write_decoder(root / "llama2", seed=3),
        "mlm": write_encoder(root / "mlm", head="mlm"),
        "classify": write_encoder(root / "classify", head="classification"),
        "embed": write_encoder(root / "embed", head="base"),
    }


@pytest.fixture(scope="session")
def engine_url(django_db_setup, tmp_path_factory):
    with engine_process(cache_dir=tmp_path_factory.mktemp("inference-cache")) as (url, process):
        yield url
        assert process.poll() is None, "the engine process died during the tests"


@pytest.fixture(scope="session")
def hub_url(django_db_setup):
    with hub_servers() as url:
        yield url


@pytest.fixture
def live_inference(settings, engine_url, transactional_db):
    settings.HUB_INFERENCE_ENGINE_URL = engine_url
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return engine_url
