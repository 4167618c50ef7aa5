"""Inference tests: tiny models on disk, a real engine process, and the live ASGI hub.

The engine and the server are started once per session (the engine loads ``repo@sha`` through the
test database, so every test's own repositories work); ``live_inference`` points the hub at the
engine for one test and gives it the database the two processes share.
"""

from __future__ import annotations

import os

import pytest
import torch

from tests.support.inference import asgi_server, engine_process
from tests.support.tiny_models import write_decoder, write_encoder

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")  # gradio_client's telemetry and agent look-ups (GRADIO.md)
torch.set_num_threads(1)


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
def engine_url(django_db_setup, django_db_blocker, tmp_path_factory):
    with engine_process(cache_dir=tmp_path_factory.mktemp("inference-cache")) as (url, process):
        yield url
        assert process.poll() is None, "the engine process died during the tests"


@pytest.fixture(scope="session")
def hub_url(django_db_setup):
    with asgi_server() as url:
        yield url


@pytest.fixture
def live_inference(settings, engine_url, transactional_db):
    settings.HUB_INFERENCE_ENGINE_URL = engine_url
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return engine_url
