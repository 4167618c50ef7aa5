"""``python manage.py playground_server``: the playground process (the Procfile's ``playground``)."""

from __future__ import annotations

from urllib.parse import urlsplit

import uvicorn
from django.conf import settings
from django.core.management.base import BaseCommand

# Idle connections stay open longer than the web processes' pool (common.proxy) and nginx keep
# theirs, so those close them and never send a request on one this server is closing.
KEEP_ALIVE_SECONDS = 75


class Command(BaseCommand):
    help = (
        "Serve the Gradio playgrounds (config.playground_asgi) in one process, at the address "
        "HUB_PLAYGROUND_URL names; the web processes pass /playground/ on to it."
    )

    def add_arguments(self, parser) -> None:
        url = urlsplit(settings.HUB_PLAYGROUND_URL)
        parser.add_argument("--host", default=url.hostname or "127.0.0.1")
        parser.add_argument("--port", type=int, default=url.port or 80)
        parser.add_argument("--access-log", action="store_true", help="log every request")

    def handle(self, *args, host: str, port: int, access_log: bool, **options) -> None:
        self.stdout.write(f"playgrounds on http://{host}:{port}/playground/")
        # One process, always: Gradio's queues and event streams live in its memory.
        uvicorn.run(
            "config.playground_asgi:application",
            host=host,
            port=port,
            workers=1,
            access_log=access_log,
            timeout_keep_alive=KEEP_ALIVE_SECONDS,
        )
