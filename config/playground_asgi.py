"""ASGI entry point of the playground process (``manage.py playground_server``, the Procfile's
``playground``): the Gradio playgrounds under ``/playground/`` and nothing else
(``training_runner.inference.asgi``). It is one process, as Gradio's queues and event streams live
in its memory; the web processes pass ``/playground/`` on to it (``HUB_PLAYGROUND_URL``), or the
front proxy sends it here directly. ``/healthz`` and ``/readyz`` answer as in the web processes;
every other path is a 404."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from common.asgi import get_hub_asgi_application

django_application = get_hub_asgi_application()  # sets Django up before anything imports models

from common.prefix import path_prefix  # noqa: E402
from training_runner.inference.asgi import with_playgrounds  # noqa: E402

HEALTH_PATHS = frozenset({"/healthz", "/readyz"})
NOT_HERE = b'{"error": "This process serves the playgrounds (/playground/) only.", "code": "not_found"}'


async def health_only(scope, receive, send):
    """Django for the health checks; a JSON 404 for anything else that reaches this process."""
    if scope["type"] != "http":
        return await django_application(scope, receive, send)
    path, mount = scope.get("path", ""), path_prefix()
    local = path[len(mount) :] if mount and path.startswith(mount + "/") else path
    if local in HEALTH_PATHS:
        return await django_application(scope, receive, send)
    await send({"type": "http.response.start", "status": 404, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": NOT_HERE})


application = with_playgrounds(health_only)
