"""``python manage.py inference_engine``: the engine process (the Procfile's ``inference``)."""

from __future__ import annotations

from urllib.parse import urlsplit

import torch
from django.conf import settings
from django.core.management.base import BaseCommand

from training_runner.engine.server import serve
from training_runner.inference.engine import engine_resolve, engine_token


class Command(BaseCommand):
    help = "Run the inference engine that serves the playgrounds, the inference APIs and the arena."

    def add_arguments(self, parser) -> None:
        url = urlsplit(settings.HUB_INFERENCE_ENGINE_URL)
        parser.add_argument("--host", default=url.hostname or "127.0.0.1")
        parser.add_argument("--port", type=int, default=url.port or 8001)
        parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")

    def handle(self, *args, host: str, port: int, device: str, **options) -> None:
        if settings.HUB_INFERENCE_THREADS:
            torch.set_num_threads(settings.HUB_INFERENCE_THREADS)
        self.stdout.write(f"inference engine on http://{host}:{port} ({device})")
        serve(
            host=host, port=port, resolve=engine_resolve, capacity_bytes=settings.HUB_INFERENCE_MEMORY_MB << 20,
            token=engine_token(), max_concurrent=settings.HUB_INFERENCE_CONCURRENCY, device=device,
            queue_timeout=settings.HUB_INFERENCE_QUEUE_SECONDS,
        )  # fmt: skip
