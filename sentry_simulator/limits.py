"""Sentry's rate limits: a request budget per time window and a concurrency cap.

Both feed the `X-Sentry-Rate-Limit-*` headers on every API response, so a
client that paces itself by `Remaining`/`Reset` can be tested here. The
window budget is always enforced (429 once spent). The concurrency cap is
always reported but only enforced when set, because a generous default
would still surprise parallel benchmarks.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

__all__ = [
    "DEFAULT_CONCURRENT_LIMIT",
    "DEFAULT_RATE_LIMIT",
    "DEFAULT_RATE_WINDOW",
    "InFlight",
    "RateDecision",
    "RateWindow",
]

DEFAULT_RATE_LIMIT = 1000
DEFAULT_RATE_WINDOW = 1
DEFAULT_CONCURRENT_LIMIT = 25


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    limit: int
    remaining: int
    reset: int  # epoch seconds when the window's budget refills

    def retry_after(self, now: float) -> int:
        return max(1, math.ceil(self.reset - now))


class RateWindow:
    """Fixed windows aligned to the epoch, as Sentry's Redis-backed limiter uses."""

    def __init__(self, *, limit: int = DEFAULT_RATE_LIMIT, window: int = DEFAULT_RATE_WINDOW) -> None:
        self._lock = threading.Lock()
        self._defaults = (limit, window)
        self._limit, self._window = limit, window
        self._started = -1
        self._used = 0

    def configure(self, *, limit: int | None = None, window: int | None = None) -> None:
        with self._lock:
            self._limit = limit or self._limit
            self._window = window or self._window
            self._started, self._used = -1, 0

    @property
    def window(self) -> int:
        return self._window

    def restore_defaults(self) -> None:
        self.configure(limit=self._defaults[0], window=self._defaults[1])

    def hit(self, now: float) -> RateDecision:
        with self._lock:
            started = int(now) - int(now) % self._window
            if started != self._started:
                self._started, self._used = started, 0
            self._used += 1
            return RateDecision(
                allowed=self._used <= self._limit,
                limit=self._limit,
                remaining=max(0, self._limit - self._used),
                reset=started + self._window,
            )


class InFlight:
    """Counts API requests being served right now."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._count = 0
        self.enforced_limit: int | None = None

    @property
    def limit(self) -> int:
        return self.enforced_limit or DEFAULT_CONCURRENT_LIMIT

    def enter(self) -> int:
        """Returns how many requests are in flight, this one included."""
        with self._lock:
            self._count += 1
            return self._count

    @property
    def current(self) -> int:
        with self._lock:
            return self._count

    def leave(self) -> None:
        with self._lock:
            self._count -= 1

    def over_limit(self, in_flight: int) -> bool:
        return self.enforced_limit is not None and in_flight > self.enforced_limit

    def remaining(self, in_flight: int) -> int:
        return max(0, self.limit - in_flight)
