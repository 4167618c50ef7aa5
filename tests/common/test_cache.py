"""The embedded default's cache (common/cache.py): files every process shares, counters that
never lose a count, and ``incr`` that keeps the entry's expiry."""

from __future__ import annotations

import multiprocessing
import time

import pytest

from common.cache import SharedFileCache


def test_the_embedded_default_is_the_shared_file_cache(settings):
    if settings.CACHE_URL:
        assert settings.CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    else:
        assert settings.CACHES["default"]["BACKEND"] == "common.cache.SharedFileCache"
        assert settings.CACHES["default"]["LOCATION"] == str(settings.DATA_DIR / "cache" / "django")


def _count(location: str, key: str, times: int) -> None:
    shared = SharedFileCache(location, {"TIMEOUT": 60})
    for _ in range(times):
        if not shared.add(key, 1, 60):
            shared.incr(key)


def test_counters_of_several_processes_lose_no_count(tmp_path):
    location = str(tmp_path / "cache")
    workers = [
        multiprocessing.get_context("spawn").Process(target=_count, args=(location, "hits", 40)) for _ in range(4)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert [worker.exitcode for worker in workers] == [0, 0, 0, 0]
    assert SharedFileCache(location, {}).get("hits") == 160


def test_incr_keeps_the_expiry_and_refuses_a_missing_or_expired_key(tmp_path):
    cache = SharedFileCache(str(tmp_path / "cache"), {})
    cache.add("window", 1, timeout=1)
    assert cache.incr("window") == 2
    assert cache.incr("window", 3) == 5
    time.sleep(1.2)
    assert cache.get("window") is None
    for key in ("window", "never-set"):
        with pytest.raises(ValueError, match=f"^Key '{key}' not found$"):
            cache.incr(key)
