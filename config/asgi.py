"""ASGI entry point, served by uvicorn (``make serve``): Django, plus the Gradio playgrounds
under ``/playground/`` when ``HUB_PLAYGROUNDS`` is on (``training_runner.inference.asgi``)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_asgi_application()  # sets Django up before anything imports models

from django.conf import settings  # noqa: E402

if settings.HUB_PLAYGROUNDS:
    from training_runner.inference.asgi import with_playgrounds

    application = with_playgrounds(application)
