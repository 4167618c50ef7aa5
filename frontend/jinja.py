"""The Jinja2 environment of the hot page fragments (``frontend/jinja2/``): the same number
formats as the Django templates' filters (and their ``naturaltime`` and ``date:'c'``), Django's URL
quoting, and ``path_prefix()`` for links."""

from __future__ import annotations

from django.contrib.humanize.templatetags.humanize import intcomma, naturaltime
from django.utils.http import urlencode
from django.utils.timezone import template_localtime
from jinja2 import Environment

from evals.leaderboards.templatetags.leaderboards import half_width, percent, score
from frontend.context_processors import path_prefix


def environment(**options) -> Environment:
    env = Environment(**options)
    env.filters.update(
        score=score,
        half_width=half_width,
        percent=percent,
        intcomma=intcomma,
        naturaltime=naturaltime,
        # ``|date:'c'`` of Django's templates (which convert to the current time zone first).
        isoformat=lambda value: template_localtime(value).isoformat(),
    )
    env.globals.update(urlencode=urlencode, path_prefix=lambda: path_prefix()["path_prefix"])
    return env
