"""Inference tests: tiny models on disk, a real engine process, and the live ASGI hub.

The engine and the server are started once per session (the engine loads ``repo@sha`` through the
test database, so every test's own repositories work); ``live_inference`` points the hub at the
engine for one test and gives it the database the two processes share.
"""

from __future__ import annotations

import os

import torch

from tests.support.inference import engine_url, hub_url, live_inference, model_dirs  # noqa: F401

# No Gradio version check or analytics. gradio_client's huggingface_hub telemetry and agent look-ups
# are off through HF_HUB_DISABLE_TELEMETRY, which tests/conftest.py sets for the whole suite
# (GRADIO.md also names HF_HUB_OFFLINE, which would stop the suite's own huggingface_hub clients).
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
torch.set_num_threads(1)
