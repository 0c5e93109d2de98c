"""LRU: the one least-recently-used cache the code keeps its caches in.

A :class:`LRU` is owned by one object (a snapshot, an index generation, an engine, a web
app) and emptied with it; ``docs/architecture.md`` lists each one (owner, key, lifetime,
budget, when it is cleared). Its budget counts entries, or bytes when it is given a
``sizeof``: the decoded posting lists are kept within 64 MiB, not within so many lists.

    plans = LRU(8)
    plans.get(("kwic", "grève"), lambda: count("grève"))  # computed once, then kept
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from typing import Generic, TypeVar

__all__ = ["LRU"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class LRU(Generic[K, V]):
    """Values kept by key within a budget, the least recently used dropped first; thread-safe.

    ``sizeof`` (value → bytes) makes the budget one of bytes; a value over ``largest``
    is returned to its caller but not kept (it would push out the many that share the budget).
    """

    def __init__(self, budget: int, sizeof: Callable[[V], int] | None = None, largest: int | None = None) -> None:
        self.budget = budget
        self._sizeof = sizeof
        self._largest = budget if largest is None else largest
        self._items: OrderedDict[K, tuple[V, int]] = OrderedDict()
        #: What the kept values weigh: bytes with ``sizeof``, entries otherwise.
        self.size = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: K, compute: Callable[[], V]) -> V:
        """Return the value kept for ``key``, or compute it, keep it and return it."""
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                return found[0]
        # Computed outside the lock: two threads may both compute a new entry; either serves.
        value = compute()
        self.put(key, value)
        return value

    def get_many(self, keys: Sequence[K], compute: Callable[[list[K]], Sequence[V]]) -> list[V]:
        """Return :meth:`get` of each key, the missing ones computed together by ``compute(missing)``."""
        found: dict[K, V] = {}
        with self._lock:
            for key in keys:
                kept = self._items.get(key)
                if kept is not None:
                    self._items.move_to_end(key)
                    found[key] = kept[0]
        missing = [key for key in dict.fromkeys(keys) if key not in found]
        if missing:
            for key, value in zip(missing, compute(missing), strict=True):
                self.put(key, value)
                found[key] = value
        return [found[key] for key in keys]

    def items(self) -> list[tuple[K, V]]:
        """Return what is kept, least recently used first."""
        with self._lock:
            return [(key, value) for key, (value, _) in self._items.items()]

    def peek(self, key: K) -> V | None:
        """Return the value kept for ``key`` (None if none), leaving its place in the order."""
        with self._lock:
            found = self._items.get(key)
            return None if found is None else found[0]

    def put(self, key: K, value: V) -> None:
        """Keep ``value`` as the most recently used, dropping the least recently used past the budget."""
        weight = self._sizeof(value) if self._sizeof is not None else 1
        if weight > self._largest:
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self.size -= old[1]
            self._items[key] = (value, weight)
            self.size += weight
            while self.size > self.budget:
                _, (_, dropped) = self._items.popitem(last=False)
                self.size -= dropped

    def discard(self, key: K) -> None:
        """Forget ``key`` if it is kept."""
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self.size -= old[1]

    def clear(self) -> None:
        """Forget everything kept."""
        with self._lock:
            self._items.clear()
            self.size = 0
