"""How many API requests the simulator served, for tests that count round trips.

A sync of 500 projects should cost a handful of paginated requests, not 500;
tests and benchmarks read this counter to hold the client to that.
"""

from __future__ import annotations

import threading
from collections import Counter

__all__ = ["RequestCounter"]


class RequestCounter:
    """Counts every API request received (failed ones too: retries cost the same)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_path: Counter[str] = Counter()

    def record(self, path: str) -> None:
        with self._lock:
            self._by_path[path] += 1

    def reset(self) -> None:
        with self._lock:
            self._by_path.clear()

    def snapshot(self) -> dict[str, object]:
        with self._lock:
            return {"total": sum(self._by_path.values()), "by_path": dict(sorted(self._by_path.items()))}
