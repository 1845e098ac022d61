"""Per-container caches: the one cache type of the package.

A Lambda execution environment handles one event at a time and keeps module state between
events, so a module-level cache saves DynamoDB reads across the requests one container
serves. Every such cache is a `Cache`: bounded (least recently used entries go first, so a
flood of unknown keys cannot grow it) and with a time to live per entry (a miss can be kept
for 5 seconds while a hit is kept for ARTICLE_CACHE_SECONDS). Built on cachetools'
TLRUCache; the clock is `time.monotonic`, replaceable by tests through `clock`.

Every cache registers itself, so `clear_all()` gives a test the state of a new container.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from cachetools import TLRUCache

V = TypeVar("V")

clock: Callable[[], float] = time.monotonic  # seconds; tests may replace it
FOREVER = float("inf")

_registry: list[Cache[Any]] = []


@dataclass(frozen=True)
class _Entry(Generic[V]):
    value: V
    ttl: float  # seconds


def _expiry(_key: Any, entry: _Entry[Any], now: float) -> float:
    return now + entry.ttl


def _entries(maxsize: int) -> TLRUCache[str, _Entry[Any]]:
    return TLRUCache(maxsize=maxsize, ttu=_expiry, timer=lambda: clock())


class Cache(Generic[V]):
    """At most `maxsize` entries, each kept `ttl` seconds from when it was put (FOREVER:
    until evicted as least recently used). Safe for the threads of one process; in Lambda
    one event at a time uses it."""

    def __init__(self, name: str, maxsize: int) -> None:
        self.name = name
        self._lock = threading.Lock()
        self._entries: TLRUCache[str, _Entry[V]] = _entries(maxsize)
        _registry.append(self)

    def get(self, key: str) -> tuple[bool, V | None]:
        """(True, value) for a live entry, else (False, None): a cached None is a hit."""
        with self._lock:
            entry = self._entries.get(key)
        if entry is None:
            return False, None
        return True, entry.value

    def put(self, key: str, value: V, ttl: float = FOREVER) -> None:
        """Keep `value` for `ttl` seconds (0 or less: not kept)."""
        if ttl <= 0:
            self.pop(key)
            return
        with self._lock:
            self._entries[key] = _Entry(value, ttl)

    def put_unless(
        self, key: str, value: V, keep: Callable[[V], bool], ttl: float = FOREVER
    ) -> bool:
        """Atomically: keep a live entry that `keep(entry)` accepts (False), else put
        `value` (True)."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and keep(entry.value):
                return False
            if ttl > 0:
                self._entries[key] = _Entry(value, ttl)
            return True

    def _swap(self, entries: Any) -> Any:
        """Replace the entries (None: empty ones); the old ones."""
        with self._lock:
            old = self._entries
            self._entries = entries if entries is not None else _entries(int(old.maxsize))
            return old

    def pop(self, key: str) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)


def clear_all() -> None:
    """Empty every cache of this process, and forget every other environment's
    (use_environment): the state of a new execution environment."""
    _environments.clear()
    for cache in _registry:
        cache.clear()


_environments: dict[str, list[Any]] = {}
_current = "default"


def use_environment(name: str) -> None:
    """Make every cache hold the entries of execution environment `name` (empty the first
    time), keeping the current one's aside: one process plays several Lambda containers in
    turn, each with its own module state (simulations and tests; the service never calls
    it)."""
    global _current
    if name == _current:
        return
    _environments[_current] = [cache._swap(None) for cache in _registry]
    saved = _environments.pop(name, None)
    for n, cache in enumerate(_registry):
        cache._swap(saved[n] if saved is not None and n < len(saved) else None)
    _current = name
