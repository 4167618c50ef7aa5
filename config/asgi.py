"""ASGI entry point, served by uvicorn (``make serve``): Django (whose upload views read their
bodies as they arrive, ``common.asgi``), plus the Gradio playgrounds under ``/playground/`` when
``HUB_PLAYGROUNDS`` is on and one process serves the hub (``training_runner.inference.asgi``;
Gradio's queue and its event streams live in that process's memory, and with ``HUB_WEB_WORKERS``
above one a page's next request may reach another process)."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from common.asgi import get_hub_asgi_application

application = get_hub_asgi_application()  # sets Django up before anything imports models

from django.conf import settings  # noqa: E402

if settings.HUB_PLAYGROUNDS and settings.HUB_WEB_WORKERS > 1:
    import logging

    logging.getLogger(__name__).warning(
        "HUB_WEB_WORKERS=%s: the Gradio playgrounds are off in these web processes; serve them from a "
        "process of their own (HUB_WEB_WORKERS=1) that the proxy sends /playground/ to",
        settings.HUB_WEB_WORKERS,
    )
elif settings.HUB_PLAYGROUNDS:
    from training_runner.inference.asgi import with_playgrounds

    application = with_playgrounds(application)
