"""Rate limits and the client address they count by (common/throttling.py, hub/throttling.py).

Every count lives in Django's cache (``CACHE_URL``: Redis in production), so several web processes
share one budget. Authenticated callers are counted per user, anonymous ones per client address.
Rates are ``<count>/<second|minute|hour|day>``.
"""

from config.env import env

# Reverse proxies in front of the hub that append to X-Forwarded-For. 0 (the default): the
# header is ignored and the peer address is the client, so no client can pick its own address.
# N: the address N hops from the right of X-Forwarded-For is the client (set it to the number of
# proxies you run; a larger number lets clients forge their address).
HUB_TRUSTED_PROXIES = env.int("HUB_TRUSTED_PROXIES", 0, minimum=0)
# A proxy trusted with the client's address is trusted with its scheme too: TLS ends at nginx,
# which sets X-Forwarded-Proto (docker/nginx.conf.template), and URLs the hub hands out say https.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if HUB_TRUSTED_PROXIES else None

# The HF-compatible API (/api/… outside /api/v1): repository info, listings, commits, discussions.
HUB_THROTTLE_HF_USER = env.rate("HUB_THROTTLE_HF_USER", "10000/hour")
HUB_THROTTLE_HF_ANON = env.rate("HUB_THROTTLE_HF_ANON", "3000/hour")
# File downloads (resolve): a snapshot of a large repository is two requests a file.
HUB_THROTTLE_FILES_USER = env.rate("HUB_THROTTLE_FILES_USER", "20000/hour")
HUB_THROTTLE_FILES_ANON = env.rate("HUB_THROTTLE_FILES_ANON", "5000/hour")
# The LFS batch API and its transfer URLs (multipart uploads send one request per part).
HUB_THROTTLE_LFS_USER = env.rate("HUB_THROTTLE_LFS_USER", "20000/hour")
HUB_THROTTLE_LFS_ANON = env.rate("HUB_THROTTLE_LFS_ANON", "5000/hour")
# The Xet CAS: reconstructions, xorbs, shards and signed xorb ranges (many per large file). CAS
# calls carry CAS tokens, not hub tokens, so they count per client address.
HUB_THROTTLE_XET = env.rate("HUB_THROTTLE_XET", "100000/hour")

# Log-in: after this many failed attempts for one user name (or five times as many from one
# address) the form refuses to try for HUB_LOGIN_LOCKOUT_SECONDS and says so.
HUB_LOGIN_MAX_FAILURES = env.int("HUB_LOGIN_MAX_FAILURES", 10, minimum=1)
HUB_LOGIN_LOCKOUT_SECONDS = env.int("HUB_LOGIN_LOCKOUT_SECONDS", 900, minimum=1)
# Sign-ups (the form and POST /api/v1/users) per client address.
HUB_THROTTLE_SIGNUP = env.rate("HUB_THROTTLE_SIGNUP", "20/hour")
