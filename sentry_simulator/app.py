"""The simulator as one request -> response function, before any socket.

It strips the optional path prefix, sends `/_admin/` to the admin API and
wraps every Sentry API call in what real Sentry puts around its endpoints:
latency, rate limits, scripted faults, and the rate-limit headers.
"""

from __future__ import annotations

import time
from http import HTTPStatus

from .admin import AdminApi
from .api import NOT_FOUND, SentryApi
from .faults import FaultInjector, FaultRule
from .limits import DEFAULT_RATE_WINDOW, Admission, RateLimits
from .messages import Request, Response, detail_response, json_response
from .pagination import endless_page
from .metrics import RequestCounter
from .seed import Seed
from .state import SimulatorState
from .tamper import Tamperer

__all__ = ["Simulator", "normalize_prefix"]

_HTML_5XX = "<html><head><title>{code} {phrase}</title></head><body><h1>{code} {phrase}</h1></body></html>"


def normalize_prefix(prefix: str) -> str:
    """`sentry`, `/sentry` and `/sentry/` all mean `/sentry`; `` and `/` mean none."""
    stripped = prefix.strip("/")
    return f"/{stripped}" if stripped else ""


class Simulator:
    def __init__(
        self,
        seed: Seed,
        *,
        prefix: str = "",
        page_size: int | None = None,
        rate_limit: int | None = None,
        rate_window: int = DEFAULT_RATE_WINDOW,
        link_prefix: str | None = None,
        self_hosted: bool = False,
        key_stats: bool = True,
    ) -> None:
        """`rate_limit=None` keeps Sentry's per-endpoint limits; `link_prefix` is Sentry's
        `system.url-prefix` (Link URLs start with it, not with the address the request came to);
        `self_hosted` turns rate limiting and its headers off, as self-hosted Sentry does;
        `key_stats=False` answers the per-key stats endpoint 404, as older Sentry versions do."""
        self.prefix = normalize_prefix(prefix)
        self.self_hosted = self_hosted
        self.state = SimulatorState(seed)
        self.faults = FaultInjector()
        self.rate = RateLimits(limit=rate_limit, window=rate_window)
        self.counter = RequestCounter()
        self.tamper = Tamperer()
        self._api = SentryApi(self.state, page_size=page_size, link_prefix=link_prefix, key_stats=key_stats)
        self._admin = AdminApi(
            state=self.state, faults=self.faults, rate=self.rate, counter=self.counter, tamper=self.tamper
        )

    def handle(self, request: Request) -> Response:
        route_path = self._route_path(request.path)
        if route_path is None:
            # Outside the prefix: a client that dropped it must fail, as on a real self-hosted host.
            return detail_response(404, NOT_FOUND)
        if route_path == "/_admin" or route_path.startswith("/_admin/"):
            return self._admin.handle(request, route_path)
        return self._handle_api(request, route_path)

    def _route_path(self, path: str) -> str | None:
        if path.startswith("/_admin"):
            return path
        if not self.prefix:
            return path
        if path == self.prefix or path.startswith(self.prefix + "/"):
            return path[len(self.prefix):] or "/"
        return None

    def _handle_api(self, request: Request, route_path: str) -> Response:
        self.counter.record(request.path)
        try:
            return self._answer(request, route_path)
        finally:
            self.counter.answered()

    def _answer(self, request: Request, route_path: str) -> Response:
        if self.self_hosted:
            # Self-hosted Sentry skips the rate-limit middleware: no limits, no headers.
            self._wait_latency()
            return self._served(request, route_path)
        admission = self.rate.enter(route_path, time.time())
        try:
            self._wait_latency()
            response = self._limited(admission, route_path) or self._served(request, route_path)
            return response.with_headers(*_rate_headers(admission))
        finally:
            self.rate.leave(admission)

    def _wait_latency(self) -> None:
        if self.faults.latency_seconds:
            time.sleep(self.faults.latency_seconds)

    def _limited(self, admission: Admission, route_path: str) -> Response | None:
        # Sentry's middleware answers a bare JSON string, with no Retry-After: the client
        # has only X-Sentry-Rate-Limit-Reset to go by.
        if admission.over_concurrency:
            return json_response(
                429,
                "You are attempting to go above the allowed concurrency for this endpoint. "
                f"Concurrency limit is {admission.concurrent_limit}",
            )
        if not admission.decision.allowed:
            return json_response(
                429,
                "You are attempting to use this endpoint too frequently. "
                f"Limit is {admission.decision.limit} requests in {self.rate.window_of(admission.bucket)} seconds",
            )
        return None

    def _served(self, request: Request, route_path: str) -> Response:
        fault = self.faults.take(request.path)
        if fault is not None and fault.endless_pages:
            return endless_page(request)
        if fault is not None and not fault.malformed:
            return _fault_response(fault)
        response = self.tamper.apply(request.path, self._api.handle(request, route_path))
        return _malformed(response, fault) if fault is not None else response


def _rate_headers(admission: Admission) -> tuple[tuple[str, str], ...]:
    decision = admission.decision
    return (
        ("X-Sentry-Rate-Limit-Limit", str(decision.limit)),
        ("X-Sentry-Rate-Limit-Remaining", str(decision.remaining)),
        ("X-Sentry-Rate-Limit-Reset", str(decision.reset)),
        # str(None) is what Sentry sends for an endpoint without a concurrent limit.
        ("X-Sentry-Rate-Limit-ConcurrentLimit", str(admission.concurrent_limit)),
        ("X-Sentry-Rate-Limit-ConcurrentRemaining", str(admission.concurrent_remaining)),
    )


def _fault_response(fault: FaultRule) -> Response:
    headers: tuple[tuple[str, str], ...] = ()
    if fault.retry_after is not None:
        headers = (("Retry-After", str(fault.retry_after)),)
    if fault.body is not None:
        return Response(status=fault.status, body=fault.body.encode(), content_type="text/plain", headers=headers)
    phrase = HTTPStatus(fault.status).phrase
    if fault.status in (502, 503, 504):
        # Gateways in front of Sentry answer these, in HTML, not Sentry itself.
        html = _HTML_5XX.format(code=fault.status, phrase=phrase)
        return Response(status=fault.status, body=html.encode(), content_type="text/html", headers=headers)
    if fault.status == 429:
        return json_response(429, "You are attempting to use this endpoint too frequently.", *headers)
    if fault.status == 500:
        return detail_response(500, "Internal Error", *headers)
    return detail_response(fault.status, phrase, *headers)


def _malformed(response: Response, fault: FaultRule) -> Response:
    """A 200 that claims JSON but is cut off: what a dropped proxy connection yields."""
    body = fault.body.encode() if fault.body is not None else response.body[: len(response.body) // 2]
    return Response(status=fault.status, body=body, content_type="application/json", headers=response.headers)
