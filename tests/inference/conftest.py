"""Inference tests: tiny models on disk, a real engine process, and the live ASGI hub.

The engine and the server are started once per session (the engine loads ``repo@sha`` through the
test database, so every test's own repositories work); ``live_inference`` points the hub at the
engine for one test and gives it the database the two processes share.
"""

from __future__ import annotations

import os

import torch

from tests.support.inference import engine_url, hub_url, live_inference, model_dirs  # noqa: F401

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")  # gradio_client's telemetry and agent look-ups (GRADIO.md)
torch.set_num_threads(1)
