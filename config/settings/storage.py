"""Blob storage through Django's storage API: the local filesystem unless an operator names another backend."""

from django.core.exceptions import ImproperlyConfigured

from config.env import env
from config.settings.base import DATA_DIR

BLOB_ROOT = env.path("HUB_BLOB_ROOT", DATA_DIR / "blobs")
UPLOAD_TEMP_DIR = env.path("HUB_UPLOAD_TEMP_DIR", DATA_DIR / "uploads")

STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(DATA_DIR / "media")},
    },
    "blobs": {
        "BACKEND": env.str("HUB_BLOB_STORAGE_BACKEND", "django.core.files.storage.FileSystemStorage"),
        "OPTIONS": {"location": str(BLOB_ROOT), "allow_overwrite": True}
        if not env.optional_str("HUB_BLOB_STORAGE_BACKEND")
        else {},
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Behind nginx with the filesystem backend: downloads are answered with ``X-Accel-Redirect:
# <prefix><storage key>`` and nginx sends the file from its internal location with this prefix,
# aliased to HUB_BLOB_ROOT (docker/nginx.conf.template). Unset: the web process sends the bytes.
HUB_ACCEL_REDIRECT_PREFIX = env.optional_str("HUB_ACCEL_REDIRECT_PREFIX")
if HUB_ACCEL_REDIRECT_PREFIX and not (
    HUB_ACCEL_REDIRECT_PREFIX.startswith("/") and HUB_ACCEL_REDIRECT_PREFIX.endswith("/")
):
    raise ImproperlyConfigured(
        f"HUB_ACCEL_REDIRECT_PREFIX={HUB_ACCEL_REDIRECT_PREFIX!r} must start and end with /, such as /_blobs/"
    )

# The largest body a view may hold in memory (forms, JSON; Django answers 413 past it). Commits and
# uploads (the NDJSON commit, LFS objects and parts, Xet xorbs and shards, git pushes) stream the
# request themselves and are not bound by it; multipart files spool to disk.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("HUB_MAX_BODY_BYTES", 8 * 1024 * 1024, minimum=64 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 10_000
