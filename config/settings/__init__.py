"""Settings: ``base`` plus one module per integration, every value read through :mod:`config.env`."""

from config.settings.api import *  # noqa: F403
from config.settings.base import *  # noqa: F403
from config.settings.celery import *  # noqa: F403
from config.settings.database import *  # noqa: F403
from config.settings.hub import *  # noqa: F403
from config.settings.inference import *  # noqa: F403
from config.settings.limits import *  # noqa: F403
from config.settings.logging import *  # noqa: F403
from config.settings.metrics import *  # noqa: F403
from config.settings.runs import *  # noqa: F403
from config.settings.sentry import *  # noqa: F403
from config.settings.storage import *  # noqa: F403
