"""Blob storage through Django's storage API: the local filesystem unless an operator names another
backend, or an S3-compatible bucket (``HUB_S3_BUCKET``, through django-storages and boto3)."""

from django.core.exceptions import ImproperlyConfigured

from config.env import env
from config.settings.base import DATA_DIR

BLOB_ROOT = env.path("HUB_BLOB_ROOT", DATA_DIR / "blobs")
UPLOAD_TEMP_DIR = env.path("HUB_UPLOAD_TEMP_DIR", DATA_DIR / "uploads")

# --- S3-compatible object storage (registry/objectstore.py) ---------------------------------------
# With a bucket named, blobs (LFS and regular files), Xet xorbs and the staging objects of direct
# uploads live in it. Resolve answers LFS files with a 302 to a presigned URL, and the LFS batch API
# hands out presigned PUT and multipart part URLs, so file bytes go between the client and the
# bucket; the hub verifies each upload (size and sha256, read back from the bucket) before it
# promotes it. Credentials: HUB_S3_ACCESS_KEY_ID / HUB_S3_SECRET_ACCESS_KEY, or boto3's own chain
# (AWS_* variables, instance roles) when unset. HUB_S3_ENDPOINT_URL names a non-AWS service (MinIO,
# Ceph, R2); presigned URLs carry this host, so clients must reach it too. HUB_S3_PREFIX puts every
# key under a folder of the bucket.
HUB_S3_BUCKET = env.optional_str("HUB_S3_BUCKET")
HUB_S3_ENDPOINT_URL = env.optional_str("HUB_S3_ENDPOINT_URL")
HUB_S3_REGION = env.str("HUB_S3_REGION", "us-east-1")
HUB_S3_PREFIX = env.str("HUB_S3_PREFIX", "")
# "path" (bucket in the URL path; MinIO and most self-hosted services) or "virtual" (bucket as a
# subdomain; AWS). Path style by default when an endpoint is named.
HUB_S3_ADDRESSING_STYLE = env.choice(
    "HUB_S3_ADDRESSING_STYLE", "path" if HUB_S3_ENDPOINT_URL else "virtual", ("path", "virtual")
)
# Presigned URLs (downloads, upload PUTs and parts) stay valid this long.
HUB_S3_URL_SECONDS = env.int("HUB_S3_URL_SECONDS", 3600, minimum=60)
# Turn either off to keep that direction flowing through the hub while blobs stay in the bucket.
HUB_S3_REDIRECT_DOWNLOADS = env.bool("HUB_S3_REDIRECT_DOWNLOADS", True)
HUB_S3_DIRECT_UPLOADS = env.bool("HUB_S3_DIRECT_UPLOADS", True)


def _blob_storage() -> dict:
    if HUB_S3_BUCKET:
        return {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": HUB_S3_BUCKET,
                "endpoint_url": HUB_S3_ENDPOINT_URL,
                "region_name": HUB_S3_REGION,
                "access_key": env.optional_str("HUB_S3_ACCESS_KEY_ID"),
                "secret_key": env.optional_str("HUB_S3_SECRET_ACCESS_KEY"),
                "location": HUB_S3_PREFIX.strip("/"),
                "addressing_style": HUB_S3_ADDRESSING_STYLE,
                "signature_version": "s3v4",
                "querystring_expire": HUB_S3_URL_SECONDS,
                # Keys are content addresses: a second save of a key writes the same bytes.
                "file_overwrite": True,
                "default_acl": None,
            },
        }
    if env.optional_str("HUB_BLOB_STORAGE_BACKEND"):
        return {"BACKEND": env.str("HUB_BLOB_STORAGE_BACKEND", ""), "OPTIONS": {}}
    return {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(BLOB_ROOT), "allow_overwrite": True},
    }


STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(DATA_DIR / "media")},
    },
    "blobs": _blob_storage(),
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
