"""The Jinja2 environment of the hot page fragments (``frontend/jinja2/``): the same number
formats as the Django templates' filters, and Django's URL quoting."""

from __future__ import annotations

from django.contrib.humanize.templatetags.humanize import intcomma
from django.utils.http import urlencode
from jinja2 import Environment

from evals.leaderboards.templatetags.leaderboards import half_width, percent, score


def environment(**options) -> Environment:
    env = Environment(**options)
    env.filters.update(score=score, half_width=half_width, percent=percent, intcomma=intcomma)
    env.globals.update(urlencode=urlencode)
    return env
