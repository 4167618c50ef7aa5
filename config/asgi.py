"""ASGI entry point of the web processes, served by uvicorn (``make serve``): Django (whose upload
views read their bodies as they arrive, ``common.asgi``). With ``HUB_PLAYGROUNDS`` on,
``/playground/`` is passed on to the playground process at ``HUB_PLAYGROUND_URL``
(``config/playground_asgi.py``; ``common.proxy``), so a hub without a front proxy serves the
playgrounds on its one origin while the web processes never import Gradio or PyTorch and hold no
state of their own: any number of them can serve the hub. A front proxy may send
``/playground/`` to the playground process itself (``docker/nginx.conf.template``)."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from common.asgi import get_hub_asgi_application

application = get_hub_asgi_application()  # sets Django up before anything imports models

from django.conf import settings  # noqa: E402

if settings.HUB_PLAYGROUNDS:
    from common.prefix import path_prefix
    from common.proxy import ProxyApp

    django_application = application
    to_playgrounds = ProxyApp(
        lambda: settings.HUB_PLAYGROUND_URL,
        unavailable="The playground process does not answer (manage.py playground_server, HUB_PLAYGROUND_URL)",
        code="playgrounds_unavailable",
    )

    async def application(scope, receive, send):
        """``/playground/…`` (after the path prefix, if the proxy passes it on) to the playground
        process, everything else to Django; the lifespan closes the connections to it at the end."""
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await to_playgrounds.aclose()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] == "http":
            path, mount = scope.get("path", ""), path_prefix()
            local = path[len(mount) :] if mount and path.startswith(mount + "/") else path
            if local.startswith("/playground/"):
                return await to_playgrounds(scope, receive, send)
        return await django_application(scope, receive, send)
