"""The clone pack cache on its own: only complete packs are kept, and the folder stays in budget."""

from __future__ import annotations

import os

import pytest

from registry.packcache import clone_key, pack_cache_get, pack_cache_purge, pack_cache_tee


def pack(count: int, size: int) -> list[bytes]:
    """A stand-in pack: the header the cache reads its object count from, then ``size`` bytes."""
    return [b"PACK" + (2).to_bytes(4, "big") + count.to_bytes(4, "big"), b"x" * size]


@pytest.fixture
def cache(settings, tmp_path):
    settings.HUB_GIT_PACK_CACHE_DIR = tmp_path / "packs"
    settings.HUB_GIT_PACK_CACHE_BYTES = 4000
    settings.HUB_GIT_PACK_CACHE_PER_REPO = 2
    return tmp_path / "packs"


def test_a_complete_pack_is_kept_and_read_back(cache):
    key = clone_key(["b" * 40, "a" * 40, "b" * 40])
    assert key == clone_key(["a" * 40, "b" * 40])
    assert b"".join(pack_cache_tee(iter(pack(7, 100)), repo_pk=1, key=key)) == b"".join(pack(7, 100))
    cached = pack_cache_get(repo_pk=1, key=key)
    assert cached.count == 7
    assert b"".join(cached.chunks(size=10)) == b"".join(pack(7, 100))
    assert pack_cache_get(repo_pk=2, key=key) is None


def test_a_pack_whose_client_went_away_leaves_nothing(cache):
    stream = pack_cache_tee(iter(pack(3, 100)), repo_pk=1, key="k")
    next(stream)
    stream.close()  # the response was abandoned after its first chunk
    assert list(cache.rglob("*")) == [cache / "1"]
    assert pack_cache_get(repo_pk=1, key="k") is None

    def failing():
        yield b"PACK"
        raise OSError("storage went away")

    with pytest.raises(OSError):
        list(pack_cache_tee(failing(), repo_pk=1, key="k"))
    assert list((cache / "1").iterdir()) == []


def test_each_repository_keeps_its_newest_packs_and_the_folder_its_budget(cache):
    for number, key in enumerate(["old", "mid", "new"]):
        list(pack_cache_tee(iter(pack(1, 100)), repo_pk=1, key=key))
        os.utime(cache / "1" / f"{key}.pack", (1000 + number, 1000 + number))
    list(pack_cache_tee(iter(pack(1, 100)), repo_pk=1, key="newest"))
    assert sorted(p.name for p in (cache / "1").iterdir()) == ["new.pack", "newest.pack"]
    # Over the budget (4000 bytes), the least recently used packs of any repository go first.
    for repo_pk in (2, 3, 4, 5):
        list(pack_cache_tee(iter(pack(1, 950)), repo_pk=repo_pk, key="k"))
    kept = sum(path.stat().st_size for path in cache.rglob("*.pack"))
    assert kept <= 4000
    assert (cache / "5" / "k.pack").exists()
    assert not (cache / "1" / "new.pack").exists()
    # Too large to keep (over a quarter of the budget): sent, not kept.
    assert b"".join(pack_cache_tee(iter(pack(1, 1200)), repo_pk=6, key="big")) == b"".join(pack(1, 1200))
    assert pack_cache_get(repo_pk=6, key="big") is None
    pack_cache_purge(repo_pk=5)
    assert not (cache / "5").exists()


def test_the_cache_can_be_turned_off(cache, settings):
    settings.HUB_GIT_PACK_CACHE_BYTES = 0
    assert b"".join(pack_cache_tee(iter(pack(1, 10)), repo_pk=1, key="k")) == b"".join(pack(1, 10))
    assert not cache.exists()
    assert pack_cache_get(repo_pk=1, key="k") is None
