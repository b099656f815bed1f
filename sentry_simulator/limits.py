"""Sentry's rate limits: a request budget per endpoint and time window, and a concurrency cap.

Sentry keys its limits by endpoint (view) and method: an endpoint with its own
`rate_limits` override (the client-key lists, the stats endpoints) has a bucket
of its own; every other endpoint shares the default group's bucket. Each
bucket feeds the `X-Sentry-Rate-Limit-*` headers of its responses, so a client
that paces itself per endpoint by `Remaining`/`Reset` can be tested here. The
overrides set no concurrent limit, and Sentry then reports the literal `None`
in the concurrent headers; the default group caps in-flight requests at 25.
"""

from __future__ import annotations

import math
import re
import threading
from dataclasses import dataclass

__all__ = [
    "DEFAULT_CONCURRENT_LIMIT",
    "DEFAULT_RATE_LIMIT",
    "DEFAULT_RATE_WINDOW",
    "ENDPOINT_LIMITS",
    "Admission",
    "EndpointLimit",
    "InFlight",
    "RateDecision",
    "RateLimits",
    "RateWindow",
    "endpoint_limit",
]

DEFAULT_RATE_LIMIT = 1000
DEFAULT_RATE_WINDOW = 1
DEFAULT_CONCURRENT_LIMIT = 25


@dataclass(frozen=True)
class EndpointLimit:
    bucket: str
    limit: int
    concurrent: int | None  # None: no in-flight cap, reported as the literal "None"


_DEFAULT_GROUP = EndpointLimit("default", DEFAULT_RATE_LIMIT, DEFAULT_CONCURRENT_LIMIT)

# The per-endpoint overrides of getsentry/sentry (GET, per second), by route path.
ENDPOINT_LIMITS: tuple[tuple[re.Pattern[str], EndpointLimit], ...] = (
    (re.compile(r"^/api/0/projects/[^/]+/[^/]+/keys/[^/]+/stats/$"), EndpointLimit("key-stats", 20, None)),
    (re.compile(r"^/api/0/projects/[^/]+/[^/]+/stats/$"), EndpointLimit("project-stats", 5, None)),
    (re.compile(r"^/api/0/projects/[^/]+/[^/]+/keys/$"), EndpointLimit("project-keys", 40, None)),
    (re.compile(r"^/api/0/organizations/[^/]+/project-keys/$"), EndpointLimit("organization-keys", 40, None)),
)


def endpoint_limit(route_path: str) -> EndpointLimit:
    """The bucket a request to `route_path` (prefix removed) spends from."""
    for pattern, limit in ENDPOINT_LIMITS:
        if pattern.match(route_path):
            return limit
    return _DEFAULT_GROUP


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
    """Counts one bucket's requests being served right now."""

    def __init__(self, limit: int | None = DEFAULT_CONCURRENT_LIMIT) -> None:
        self._lock = threading.Lock()
        self._count = 0
        self._default = limit
        self.limit: int | None = limit

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

    def restore_defaults(self) -> None:
        self.limit = self._default

    def over_limit(self, in_flight: int) -> bool:
        return self.limit is not None and in_flight > self.limit

    def remaining(self, in_flight: int) -> int | None:
        return None if self.limit is None else max(0, self.limit - in_flight)


@dataclass(frozen=True)
class Admission:
    """What one request met: its bucket's window decision and how many were in flight with it."""

    bucket: str
    decision: RateDecision
    in_flight: int
    concurrent_limit: int | None
    concurrent_remaining: int | None

    @property
    def over_concurrency(self) -> bool:
        return self.concurrent_limit is not None and self.in_flight > self.concurrent_limit


class RateLimits:
    """One window and in-flight counter per bucket; admin overrides apply to every bucket."""

    def __init__(self, *, limit: int | None = None, window: int = DEFAULT_RATE_WINDOW) -> None:
        """`limit=None` keeps Sentry's per-endpoint limits; a number puts every endpoint on it."""
        self._lock = threading.Lock()
        self._base_limit = limit
        self._base_window = window
        self._windows: dict[str, RateWindow] = {}
        self._in_flight: dict[str, InFlight] = {}
        self._override_limit: int | None = None
        self._override_window: int | None = None
        self._override_concurrent: int | None = None

    def configure(self, *, limit: int | None = None, window: int | None = None, concurrent: int | None = None) -> None:
        with self._lock:
            self._override_limit = limit or self._override_limit
            self._override_window = window or self._override_window
            self._override_concurrent = concurrent or self._override_concurrent
            self._windows.clear()
            for counter in self._in_flight.values():
                counter.limit = self._override_concurrent or counter.limit

    def restore_defaults(self) -> None:
        with self._lock:
            self._override_limit = self._override_window = self._override_concurrent = None
            self._windows.clear()
            for counter in self._in_flight.values():
                counter.restore_defaults()

    def enter(self, route_path: str, now: float) -> Admission:
        endpoint = endpoint_limit(route_path)
        window, counter = self._bucket(endpoint)
        in_flight = counter.enter()
        decision = window.hit(now)
        return Admission(
            bucket=endpoint.bucket,
            decision=decision,
            in_flight=in_flight,
            concurrent_limit=counter.limit,
            concurrent_remaining=counter.remaining(in_flight),
        )

    def leave(self, admission: Admission) -> None:
        with self._lock:
            counter = self._in_flight[admission.bucket]
        counter.leave()

    @property
    def concurrent_override(self) -> int | None:
        return self._override_concurrent

    def window_of(self, bucket: str) -> int:
        with self._lock:
            window = self._windows.get(bucket)
            return window.window if window else self._override_window or self._base_window

    def _bucket(self, endpoint: EndpointLimit) -> tuple[RateWindow, InFlight]:
        with self._lock:
            window = self._windows.get(endpoint.bucket)
            if window is None:
                limit = self._override_limit or self._base_limit or endpoint.limit
                window = RateWindow(limit=limit, window=self._override_window or self._base_window)
                self._windows[endpoint.bucket] = window
            counter = self._in_flight.get(endpoint.bucket)
            if counter is None:
                counter = self._in_flight[endpoint.bucket] = InFlight(endpoint.concurrent)
                counter.limit = self._override_concurrent or counter.limit
            return window, counter
