"""What this process's CAS has done since it started: counts kept in memory, under one lock."""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass


@dataclass
class XetCounters:
    """What this process's CAS has done since it started (tests and operators read them)."""

    xorbs_received: int = 0  # POST /v1/xorbs answered 200
    xorbs_inserted: int = 0  # ... of which were new
    xorb_bytes_stored: int = 0
    shards_received: int = 0  # POST /v1/shards answered 200
    files_registered: int = 0  # new files, rebuilt and hashed by the server
    reconstructions: int = 0  # GET /v1/reconstructions answered 200


_counters = XetCounters()
_counters_lock = threading.Lock()


def xet_counters() -> dict[str, int]:
    with _counters_lock:
        return asdict(_counters)


def _count(**deltas: int) -> None:
    with _counters_lock:
        for name, delta in deltas.items():
            setattr(_counters, name, getattr(_counters, name) + delta)
