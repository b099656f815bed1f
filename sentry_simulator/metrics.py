"""How many API requests the simulator served, and over how long, for tests that count round trips.

A sync of 500 projects should cost a handful of paginated requests, not 500;
tests and benchmarks read this counter to hold the client to that. The time from
the first request to the last answer since the last reset tells the benchmark
how long a run spent reading Sentry.
"""

from __future__ import annotations

import threading
import time
from collections import Counter

__all__ = ["RequestCounter"]


class RequestCounter:
    """Counts every API request received (failed ones too: retries cost the same)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_path: Counter[str] = Counter()
        # Epoch seconds of the first request and of the last answer since the last reset.
        self._first_at: float | None = None
        self._last_at: float | None = None

    def record(self, path: str) -> None:
        now = time.time()
        with self._lock:
            self._by_path[path] += 1
            if self._first_at is None:
                self._first_at = now

    def answered(self) -> None:
        """An API request's answer is ready (it was recorded on arrival)."""
        now = time.time()
        with self._lock:
            if self._first_at is not None:
                self._last_at = now

    def reset(self) -> None:
        with self._lock:
            self._by_path.clear()
            self._first_at = self._last_at = None

    def snapshot(self) -> dict[str, object]:
        with self._lock:
            return {
                "total": sum(self._by_path.values()),
                "by_path": dict(sorted(self._by_path.items())),
                "first_at": self._first_at,
                "last_at": self._last_at,
            }
