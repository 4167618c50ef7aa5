"""Sentry error reporting, with the Django and Celery integrations, when ``SENTRY_DSN`` is set."""

from config.env import env

SENTRY_DSN = env.optional_str("SENTRY_DSN")
SENTRY_ENVIRONMENT = env.str("SENTRY_ENVIRONMENT", "production")
SENTRY_TRACES_SAMPLE_RATE = env.float("SENTRY_TRACES_SAMPLE_RATE", 0.0, minimum=0.0)

if SENTRY_DSN:
    from common.observability import sentry_init

    sentry_init(dsn=SENTRY_DSN, environment=SENTRY_ENVIRONMENT, traces_sample_rate=SENTRY_TRACES_SAMPLE_RATE)
