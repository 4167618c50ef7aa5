"""The ASGI router of the playground process (``config/playground_asgi.py``, GRADIO.md).

``/playground/<pipeline>/<namespace>/<name>/…`` goes to that pipeline's Blocks with the model id
in the request state; everything else goes to the application given (the playground process
answers its health checks there and 404 to the rest). Lifespan events go to the FastAPI parent,
which starts the Gradio queues. What Django would otherwise check for every request is done here
for the playground paths: the Host header against ``ALLOWED_HOSTS``, framing (same origin only)
and a Content-Security-Policy that fits Gradio's documents. The parent's empty CORS middleware
turns off Gradio's own, which reflects any origin with credentials.

Access: the auth dependency reads the Django session (async, as Gradio calls it on its event
loop) and lets the request through only when the user may run the model: ``"anonymous"`` for a
public model, the username for a signed-in reader, nothing (401) otherwise.

Run one process: Gradio's queue and streams live in its memory. The web processes never import
this module (nor Gradio): they pass ``/playground/`` on to this process (``config/asgi.py``), or a
front proxy sends it here directly.
"""

from __future__ import annotations

import os
import re
from importlib import import_module
from types import SimpleNamespace

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth import aget_user
from django.db import close_old_connections
from django.http.request import split_domain_port, validate_host

from common.errors import HubError
from common.prefix import path_prefix

PLAYGROUND = re.compile(r"^/playground/(?P<pipeline>[a-z-]+)/(?P<namespace>[^/]+)/(?P<name>[^/]+)(?P<rest>/.*)?$")

# Gradio's frontend needs inline scripts and styles (its config is an inline script that changes
# per request); nothing here uses js= handlers, so no 'unsafe-eval'.
PLAYGROUND_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "media-src 'self' blob:",
        "object-src 'none'",
        "base-uri 'self'",
        "frame-ancestors 'self'",
    ]
)
SECURITY_HEADERS = [
    (b"content-security-policy", PLAYGROUND_POLICY.encode()),
    (b"x-frame-options", b"SAMEORIGIN"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
]


def _can_run(user, model_id: str, pipeline: str) -> bool:
    from training_runner.inference.selectors import inference_target

    namespace, name = model_id.split("/")
    try:
        target = inference_target(user=user, namespace=namespace, name=name)
    except HubError:
        return False
    finally:
        close_old_connections()
    return target.pipeline.value == pipeline


async def auth_dependency(request) -> str | None:
    """The Gradio identity of the caller, or None (401) when they may not run the model."""
    store = import_module(settings.SESSION_ENGINE).SessionStore
    session = store(session_key=request.cookies.get(settings.SESSION_COOKIE_NAME))
    user = await aget_user(SimpleNamespace(session=session))
    state = request.scope["state"]
    if not await sync_to_async(_can_run, thread_sensitive=False)(user, state["model_id"], state["pipeline"]):
        return None
    return user.get_username() if user.is_authenticated else "anonymous"


async def _plain(send, status: int, body: bytes, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), *(headers or [])],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _host_allowed(scope) -> bool:
    host = next((v.decode("latin-1") for k, v in scope.get("headers", []) if k == b"host"), "")
    domain, _port = split_domain_port(host)
    allowed = settings.ALLOWED_HOSTS or ([".localhost", "127.0.0.1", "[::1]"] if settings.DEBUG else [])
    return bool(domain) and validate_host(domain, allowed)


def with_playgrounds(other_app):
    """The Gradio playgrounds under ``/playground/``, and ``other_app`` for every other path."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # before Gradio is imported (GRADIO.md)
    import gradio as gr
    from fastapi import FastAPI
    from starlette.middleware.cors import CORSMiddleware

    from training_runner.inference.playgrounds import BUILDERS

    parent = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    parent.add_middleware(CORSMiddleware, allow_origins=[])
    apps = {}
    built = {}
    for pipeline, builder in BUILDERS.items():
        if builder not in built:  # feature extraction and sentence similarity share one Blocks
            blocks = builder().queue(default_concurrency_limit=settings.HUB_INFERENCE_CONCURRENCY, max_size=32)
            gr.mount_gradio_app(
                parent, blocks, path=f"/_pipeline/{pipeline.value}", auth_dependency=auth_dependency,
                ssr_mode=False, footer_links=["api"], run_history=False, pwa=False, mcp_server=False,
            )  # fmt: skip
            built[builder] = parent.routes[-1].app
        apps[pipeline.value] = built[builder]

    async def application(scope, receive, send):
        if scope["type"] == "lifespan":
            return await parent(scope, receive, send)
        path = scope.get("path", "")
        # Under HUB_PATH_PREFIX the proxy may pass the prefix on: the playground path follows it.
        mount = path_prefix()
        local = path[len(mount) :] if mount and path.startswith(mount + "/") else path
        if scope["type"] != "http" or not local.startswith("/playground/"):
            return await other_app(scope, receive, send)
        if not _host_allowed(scope):
            return await _plain(send, 400, b'{"error": "Invalid Host header.", "code": "bad_host"}')
        match = PLAYGROUND.match(local)
        if match is None or match["pipeline"] not in apps:
            return await _plain(send, 404, b'{"error": "No such playground.", "code": "not_found"}')
        if match["rest"] is None:  # relative asset URLs need the trailing slash
            return await _plain(send, 308, b"{}", [(b"location", f"{path}/".encode())])
        model_id = f"{match['namespace']}/{match['name']}"
        state = dict(scope.get("state") or {}, model_id=model_id, pipeline=match["pipeline"])
        prefix = f"/playground/{match['pipeline']}/{model_id}"

        async def secured_send(message):
            if message["type"] == "http.response.start":
                names = {name for name, _ in SECURITY_HEADERS}
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() not in names]
                message = dict(message, headers=headers + SECURITY_HEADERS)
            await send(message)

        mounted_at = path[: len(path) - len(local)] or scope.get("root_path", "")
        inner = dict(scope, state=state, root_path=mounted_at + prefix)
        await apps[match["pipeline"]](inner, receive, secured_send)

    return application
