"""WSGI entry point, for servers that speak WSGI and for Django's live test server."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from common.prefix import PathPrefixMiddleware

application = PathPrefixMiddleware(get_wsgi_application())
