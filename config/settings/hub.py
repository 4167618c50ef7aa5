"""Settings of the hub's own features."""

from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

from config.env import env
from config.settings.base import BASE_DIR, DATA_DIR

HUB_SITE_NAME = env.str("HUB_SITE_NAME", "LLM Hub")
# Where people reach the hub; links the hub writes outside a request (the run page named in a card
# written by a demo run, for instance) start with it. Requests use the address they came in on.
HUB_SITE_URL = env.str("HUB_SITE_URL", "http://127.0.0.1:8000/")
# The path the hub is served under behind a reverse proxy ("/hub": clients then use
# HF_ENDPOINT=https://host/hub); empty at the root. Every URL the hub writes carries it.
HUB_PATH_PREFIX = env.str("HUB_PATH_PREFIX", "").rstrip("/")
if HUB_PATH_PREFIX and not HUB_PATH_PREFIX.startswith("/"):
    raise ImproperlyConfigured(f"HUB_PATH_PREFIX={HUB_PATH_PREFIX!r} must start with '/'")
FORCE_SCRIPT_NAME = HUB_PATH_PREFIX or None
# Absolute links written outside a request (emails, webhook payloads, cards) are HUB_SITE_URL plus
# a path without the prefix, so the site URL carries the prefix; it is added when left out.
if HUB_PATH_PREFIX and not urlsplit(HUB_SITE_URL).path.rstrip("/").endswith(HUB_PATH_PREFIX):
    HUB_SITE_URL = HUB_SITE_URL.rstrip("/") + HUB_PATH_PREFIX + "/"
# Set by `make run`: beat then finishes the demo once its models are trained (playgrounds, arena).
HUB_DEMO = env.bool("HUB_DEMO", False)
# Upper bound of API tokens a user may hold at once.
HUB_MAX_TOKENS_PER_USER = env.int("HUB_MAX_TOKENS_PER_USER", 100, minimum=1)

# Files at least this large are stored as LFS objects whatever .gitattributes says (the Hub's rule).
HUB_LFS_THRESHOLD_BYTES = env.int("HUB_LFS_THRESHOLD_BYTES", 10_000_000, minimum=1)
# How preupload answers: "xet" (the Hub's rules; the stock client uploads through the Xet CAS, and
# clients with HF_HUB_DISABLE_XET=1 or without hf_xet through the LFS batch API), "lfs" (the same
# rules, for hubs that turn the CAS off) or "regular" (every file inline; base64 in the commit).
HUB_UPLOAD_POLICY = env.choice("HUB_UPLOAD_POLICY", "xet", ("regular", "lfs", "xet"))
# Multipart LFS uploads (and the browser's resumable uploads) send parts of this size.
HUB_MULTIPART_CHUNK_BYTES = env.int("HUB_MULTIPART_CHUNK_BYTES", 16 * 1024 * 1024, minimum=5 * 1024 * 1024)
# Objects at least this large are offered the multipart transfer by the LFS batch API.
HUB_MULTIPART_THRESHOLD_BYTES = env.int("HUB_MULTIPART_THRESHOLD_BYTES", 64 * 1024 * 1024, minimum=1)
# Signed upload URLs stay valid this long.
HUB_SIGNED_URL_SECONDS = env.int("HUB_SIGNED_URL_SECONDS", 6 * 3600, minimum=60)
# Staging files older than this are removed by the janitor.
HUB_STAGING_MAX_AGE_SECONDS = env.int("HUB_STAGING_MAX_AGE_SECONDS", 24 * 3600, minimum=60)
# A pack pushed over git may be at most this large (LFS files travel beside it, not in it).
HUB_GIT_MAX_PUSH_BYTES = env.int("HUB_GIT_MAX_PUSH_BYTES", 2 * 1024**3, minimum=1024 * 1024)
# Under ASGI, upload views (LFS objects and parts, Xet xorbs and shards, git pushes) read their
# bodies as they arrive instead of after Django has spooled them to a temporary file (common/asgi.py).
HUB_STREAMED_UPLOADS = env.bool("HUB_STREAMED_UPLOADS", True)
# Web processes serving the hub (`make serve WORKERS=N` sets it; the Procfile's web line reads it).
# Each serves any request; the Gradio playgrounds, whose queues live in one process's memory, run in
# a process of their own (HUB_PLAYGROUND_URL).
HUB_WEB_WORKERS = env.int("HUB_WEB_WORKERS", 1, minimum=1)
# Requests one web process runs through Django's middleware and views at once; the others wait
# their turn on the event loop (common/asgi.py). 0: no bound (Django's default: a thread each).
# A view waiting on something slow (the inference engine, a remote database) holds its place, so
# the bound leaves room for a few of those beside the processor-bound ones.
HUB_WEB_CONCURRENCY = env.int("HUB_WEB_CONCURRENCY", 8, minimum=0)
# Packs of whole clones kept on the web node's disk and sent again to the next clone of the same
# refs (registry/packcache.py): the folder, its byte budget (0 turns the cache off; one pack may
# take at most a quarter of it) and how many packs each repository keeps.
HUB_GIT_PACK_CACHE_DIR = env.path("HUB_GIT_PACK_CACHE_DIR", DATA_DIR / "cache" / "git-packs")
HUB_GIT_PACK_CACHE_BYTES = env.int("HUB_GIT_PACK_CACHE_BYTES", 2 * 1024**3, minimum=0)
HUB_GIT_PACK_CACHE_PER_REPO = env.int("HUB_GIT_PACK_CACHE_PER_REPO", 2, minimum=1)
# An NDJSON commit line (outside inline file contents, which stream) may be at most this large,
# and a commit may hold at most this many lines (each is an operation kept until the commit).
HUB_COMMIT_MAX_LINE_BYTES = env.int("HUB_COMMIT_MAX_LINE_BYTES", 1024 * 1024, minimum=64 * 1024)
HUB_COMMIT_MAX_LINES = env.int("HUB_COMMIT_MAX_LINES", 100_000, minimum=100)
# Page size of HF-style listings (Link pagination).
HUB_LIST_PAGE_SIZE = env.int("HUB_LIST_PAGE_SIZE", 1000, minimum=1)

# --- Xet storage (registry.xet, registry.services.xet) -------------------------------------------
# CAS access tokens handed out by xet-read-token / xet-write-token stay valid this long; the client
# fetches a new one 30-60 s before they expire.
HUB_XET_TOKEN_SECONDS = env.int("HUB_XET_TOKEN_SECONDS", 3600, minimum=120)
# Signed xorb data URLs (and presigned object-store URLs) in reconstruction answers stay valid this long.
HUB_XET_DATA_URL_SECONDS = env.int("HUB_XET_DATA_URL_SECONDS", 3600, minimum=60)
# Xorbs no file references, and files no repository references, are kept at least this many days:
# the client reuses xorbs from its local shard cache for about three weeks without re-uploading them.
HUB_XET_RETENTION_DAYS = env.int("HUB_XET_RETENTION_DAYS", 28, minimum=28)
# Advertise Xet on downloads: X-Xet-Hash and the xet-auth Link on resolve, xetHash in tree entries,
# so the client fetches LFS files by parallel reconstruction instead of one HTTP stream.
HUB_XET_DOWNLOADS = env.bool("HUB_XET_DOWNLOADS", False)
# The offline data kit (BIG-bench tasks, a Wikipedia corpus) the demo content is built from.
HUB_SHARED_DATA = env.path("HUB_SHARED_DATA", BASE_DIR.parent / "shared" / "data")

# --- Webhooks (community.webhooks) ---------------------------------------------------------------
# Hook URLs that resolve to private, loopback, link-local or reserved addresses are refused unless
# this is set (a hub on a private network calling its own services; the tests' local receiver).
HUB_WEBHOOK_ALLOW_PRIVATE_URLS = env.bool("HUB_WEBHOOK_ALLOW_PRIVATE_URLS", False)
# A delivery is tried at most this many times; the n-th retry waits BACKOFF * 2**(n-1) seconds,
# at most BACKOFF_MAX.
HUB_WEBHOOK_MAX_ATTEMPTS = env.int("HUB_WEBHOOK_MAX_ATTEMPTS", 5, minimum=1)
HUB_WEBHOOK_BACKOFF_SECONDS = env.int("HUB_WEBHOOK_BACKOFF_SECONDS", 10, minimum=1)
HUB_WEBHOOK_BACKOFF_MAX_SECONDS = env.int("HUB_WEBHOOK_BACKOFF_MAX_SECONDS", 3600, minimum=1)
# How long a receiver has to answer one attempt.
HUB_WEBHOOK_TIMEOUT_SECONDS = env.int("HUB_WEBHOOK_TIMEOUT_SECONDS", 10, minimum=1)
# Upper bound of webhooks a user may own.
HUB_MAX_WEBHOOKS_PER_USER = env.int("HUB_MAX_WEBHOOKS_PER_USER", 50, minimum=1)

# --- Malware scanning and conversion (registry.scanning, registry.services.scans, conversions) ----
# Bytes of one pickle stream the scanner reads; a longer pickle is flagged suspicious, unscanned.
HUB_SCAN_MAX_PICKLE_BYTES = env.int("HUB_SCAN_MAX_PICKLE_BYTES", 64 * 1024 * 1024, minimum=1024)
# A zip member larger than 1 MiB that inflates more than this many times is an archive bomb.
HUB_SCAN_MAX_RATIO = env.int("HUB_SCAN_MAX_RATIO", 200, minimum=2)
# Limits of the sandboxed conversion to safetensors: CPU seconds, address space, wall-clock seconds,
# and the largest checkpoint it accepts.
HUB_CONVERSION_CPU_SECONDS = env.int("HUB_CONVERSION_CPU_SECONDS", 600, minimum=1)
HUB_CONVERSION_MEMORY_BYTES = env.int("HUB_CONVERSION_MEMORY_BYTES", 8 * 1024**3, minimum=256 * 1024 * 1024)
HUB_CONVERSION_WALL_SECONDS = env.int("HUB_CONVERSION_WALL_SECONDS", 900, minimum=5)
HUB_CONVERSION_MAX_BYTES = env.int("HUB_CONVERSION_MAX_BYTES", 20 * 1024**3, minimum=1024)
