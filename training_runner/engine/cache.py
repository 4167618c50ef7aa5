"""The loaded models, least recently used first out, under a memory cap.

A model is loaded once however many requests ask for it at the same moment (one lock per key);
evicting a model only drops the cache's reference, so a request still generating with it keeps it
alive until it ends.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable

from .errors import UnsupportedModel
from .loaded import LoadedModel


class ModelCache:
    def __init__(self, load: Callable[[str], LoadedModel], *, capacity_bytes: int) -> None:
        self._load = load
        self.capacity_bytes = capacity_bytes
        self._models: OrderedDict[str, LoadedModel] = OrderedDict()
        self._lock = threading.Lock()
        self._key_locks: dict[str, threading.Lock] = {}

    def get(self, key: str) -> LoadedModel:
        """The model ``key``, loading it (and evicting the least recently used) when needed."""
        with self._lock:
            if key in self._models:
                self._models.move_to_end(key)
                return self._models[key]
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                if key in self._models:
                    self._models.move_to_end(key)
                    return self._models[key]
            loaded = self._load(key)
            if loaded.nbytes > self.capacity_bytes:
                need, cap = loaded.nbytes >> 20, self.capacity_bytes >> 20
                raise UnsupportedModel(f"the model needs {need} MiB, over the engine's cap of {cap} MiB")
            with self._lock:
                self._models[key] = loaded
                while self.used_bytes > self.capacity_bytes:
                    self._models.popitem(last=False)
                self._key_locks.pop(key, None)
            return loaded

    @property
    def used_bytes(self) -> int:
        return sum(m.nbytes for m in self._models.values())

    def keys(self) -> list[str]:
        """Loaded keys, least recently used first."""
        with self._lock:
            return list(self._models)
