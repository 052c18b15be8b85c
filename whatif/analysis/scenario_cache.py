"""Forecasts already computed, kept for whoever asks the same question again.

A :class:`~whatif.analysis.engine.ScenarioEngine` belongs to one model and is shared by every
planner session of a process; its :class:`ScenarioCache` keeps the lift draws of the scenarios
asked most recently, keyed by :func:`scenario_key` (the levers and the year: what the numbers
depend on, not the scenario's name or description). Two people asking the same question get the
same numbers, computed once; a different model has its own engine and its own cache, so models
never share an entry. The cache is bounded by the bytes it holds and forgets the least recently
used entry first; its arrays are read-only, so no caller can change what the next one reads.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np

from whatif.analysis.scenario import Scenario

__all__ = ["DEFAULT_CACHE_BYTES", "ScenarioCache", "scenario_key"]

#: Bytes of lift draws a cache holds at most (a rating-scale demo forecast takes about 100 kB).
DEFAULT_CACHE_BYTES = 64 * 1024 * 1024


def scenario_key(scenario: Scenario, year: int) -> tuple:
    """What a scenario's forecast depends on: its levers in order (target, kind, operation,
    value, channels) and the year it is for (``year``: the scenario's year resolved)."""
    levers = tuple(
        (
            lever.target,
            lever.kind,
            lever.operation,
            float(lever.value),
            None if lever.channels is None else tuple(lever.channels),
        )
        for lever in scenario.levers
    )
    return levers, int(year)


def _frozen(value):
    if isinstance(value, np.ndarray):
        value = value.copy() if value.flags.writeable else value
        value.setflags(write=False)
        return value
    if isinstance(value, list):
        return tuple(value)
    return value


def _thawed(value):
    return list(value) if isinstance(value, tuple) else value


class ScenarioCache:
    """The lift arrays of recent scenarios, least recently used forgotten first.

    Parameters
    ----------
    max_bytes
        The most bytes of arrays held; an entry larger than this is not kept.
    """

    def __init__(self, max_bytes: int = DEFAULT_CACHE_BYTES):
        self.max_bytes = max_bytes
        self._entries: OrderedDict[tuple, tuple[dict, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def nbytes(self) -> int:
        """Bytes of arrays held now."""
        return self._bytes

    def get(self, key: tuple) -> dict | None:
        """The arrays stored under ``key`` (a fresh dict of read-only arrays), or ``None``."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
        return {name: _thawed(value) for name, value in entry[0].items()}

    def put(self, key: tuple, arrays: dict) -> dict:
        """Keep ``arrays`` under ``key``; returns them as every later :meth:`get` will."""
        stored = {name: _frozen(value) for name, value in arrays.items()}
        size = sum(v.nbytes for v in stored.values() if isinstance(v, np.ndarray))
        with self._lock:
            if size <= self.max_bytes:
                old = self._entries.pop(key, None)
                if old is not None:
                    self._bytes -= old[1]
                self._entries[key] = (stored, size)
                self._bytes += size
                while self._bytes > self.max_bytes:
                    _, (_, dropped) = self._entries.popitem(last=False)
                    self._bytes -= dropped
        return {name: _thawed(value) for name, value in stored.items()}

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0
