"""ASGI entry point, served by uvicorn (``make serve``): Django (whose upload views read their
bodies as they arrive, ``common.asgi``), plus the Gradio playgrounds under ``/playground/`` when
``HUB_PLAYGROUNDS`` is on (``training_runner.inference.asgi``)."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from common.asgi import get_hub_asgi_application

application = get_hub_asgi_application()  # sets Django up before anything imports models

from django.conf import settings  # noqa: E402

if settings.HUB_PLAYGROUNDS:
    from training_runner.inference.asgi import with_playgrounds

    application = with_playgrounds(application)
