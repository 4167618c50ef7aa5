"""Core Django settings."""

from pathlib import Path

from config.env import env

BASE_DIR = Path(__file__).resolve().parent.parent.parent
# Everything the embedded default writes (database, blobs, broker queues) lives under one folder.
DATA_DIR = env.path("HUB_DATA_DIR", BASE_DIR / "var")

DEBUG = env.bool("DJANGO_DEBUG", False)
SECRET_KEY = env.str("DJANGO_SECRET_KEY", "insecure-development-key-change-me-in-production")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", ["*"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI's distribution, served by the hub itself (no CDN)
    "common",
    "hub",
    "registry",
    "community",
    "training_runner.jobs",
    "training_runner.inference",
    "evals.leaderboards",
    "community.notifications",
    "community.webhooks",
    "community.moderation",
    "frontend",
]

MIDDLEWARE = [
    # Counts and times every request by route; answers /metrics (common/metrics.py).
    "common.metrics.MetricsMiddleware",
    "common.middleware.RequestIdMiddleware",
    "common.middleware.MalformedRequestMiddleware",
    "common.middleware.ApiErrorShapeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "frontend.security.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # The request whose changes the audit log records (hub/services/audit.py).
    "hub.middleware.AuditRequestMiddleware",
    # Read-only tokens make safe requests only, on every route (hub/scopes.py).
    "hub.scopes.TokenScopeMiddleware",
    # Rate limits of the HF API, resolve, LFS and the Xet CAS (hub/throttling.py).
    "hub.throttling.SurfaceThrottleMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "registry.middleware.RepoRedirectMiddleware",
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "frontend" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "frontend.context_processors.path_prefix",
                "community.notifications.context_processors.unread",
            ],
        },
    },
    # Jinja2 renders the few large, hot fragments (a leaderboard's table) several times faster.
    {
        "NAME": "jinja2",
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [BASE_DIR / "frontend" / "jinja2"],
        "APP_DIRS": False,
        "OPTIONS": {"environment": "frontend.jinja.environment", "autoescape": True},
    },
]

AUTH_USER_MODEL = "hub.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

# Relative, so Django puts the path prefix (HUB_PATH_PREFIX) in front of it.
STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "frontend" / "static"]
# Serve assets straight from the source folders too, so a fresh checkout needs no collectstatic.
WHITENOISE_USE_FINDERS = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The HF client never sends a trailing slash and a redirect would turn POSTs into GETs.
APPEND_SLASH = False

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

CACHE_URL = env.optional_str("CACHE_URL")
if CACHE_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}}
else:
    # Files every process of this machine shares (rate limits, invalidations): common/cache.py.
    CACHES = {
        "default": {
            "BACKEND": "common.cache.SharedFileCache",
            "LOCATION": str(DATA_DIR / "cache" / "django"),
            "OPTIONS": {"MAX_ENTRIES": 20000},
        }
    }

# Email (password reset links): printed on the console unless an SMTP server is configured.
EMAIL_BACKEND = env.str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env.str("EMAIL_HOST", "localhost")
EMAIL_PORT = env.int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", "LLM Hub <hub@localhost>")

# A refused CSRF check (an expired form) gets the site's own page, not Django's bare one.
CSRF_FAILURE_VIEW = "frontend.views.csrf_failure"
