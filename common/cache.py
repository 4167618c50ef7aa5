"""The cache of the embedded default: Django's file cache, shared by every process of one machine.

Each web process, worker and beat has its own memory, so a per-process cache (Django's local
memory cache) would give each web process its own rate-limit budget and keep an answer another
process has invalidated (a notification count a worker changed). Files under
``HUB_DATA_DIR/cache/django`` are seen by all of them. Django's file cache reads before it
writes in ``add`` and ``incr``; here both hold an exclusive lock (one of ``LOCK_STRIPES`` lock
files, by key), so concurrent counters never lose a count, and ``incr`` keeps the entry's expiry
(a rate-limit window ends when it began plus its period, however often it is counted). The
directory walk that culls old entries runs on one write in ``CULL_EVERY``, not on every write.
Production sets ``CACHE_URL`` (Redis) instead.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import pickle
import time
import zlib
from hashlib import md5

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.filebased import FileBasedCache
from django.core.files import locks

LOCK_STRIPES = 64
CULL_EVERY = 200
_writes = itertools.count(1)


class SharedFileCache(FileBasedCache):
    @contextlib.contextmanager
    def _locked(self, key: str, version: int | None):
        name = self.make_and_validate_key(key, version=version)
        stripe = int(md5(name.encode(), usedforsecurity=False).hexdigest(), 16)
        folder = os.path.join(self._dir, "locks")
        os.makedirs(folder, mode=0o700, exist_ok=True)
        with open(os.path.join(folder, f"{stripe % LOCK_STRIPES}.lock"), "a+b") as handle:
            locks.lock(handle, locks.LOCK_EX)
            try:
                yield
            finally:
                locks.unlock(handle)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        with self._locked(key, version):
            return super().add(key, value, timeout, version)

    def incr(self, key, delta=1, version=None):
        with self._locked(key, version):
            try:
                with open(self._key_to_file(key, version), "rb") as handle:
                    expiry = pickle.load(handle)
                    if expiry is not None and expiry < time.time():
                        raise ValueError(f"Key '{key}' not found")
                    value = pickle.loads(zlib.decompress(handle.read()))
            except FileNotFoundError:
                raise ValueError(f"Key '{key}' not found") from None
            value += delta
            self.set(key, value, None if expiry is None else max(expiry - time.time(), 0.001), version)
            return value

    def _cull(self):
        if next(_writes) % CULL_EVERY == 0:
            super()._cull()
