"""Scripted failures, so clients can be tested against a Sentry that misbehaves.

A rule answers the next N API requests whose path contains a given text with
a chosen failure: a 429 (Sentry's own shape, with `Retry-After` only when
asked for), a 5xx, a 200 whose body is not JSON, or an endless listing: empty
pages whose `Link` always offers a fresh next cursor with `results="true"`. Rules are consumed in the order they were added; the first matching rule
with failures left wins.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

__all__ = [
    "FaultInjector",
    "FaultRequest",
    "FaultRule",
    "InvalidFault",
    "parse_fault_request",
]


class InvalidFault(ValueError):
    """The admin fault body is invalid; the message says which field and why."""


@dataclass(frozen=True)
class FaultRule:
    """`status` is what the client sees; a malformed rule defaults to 200."""

    status: int
    count: int | None  # None: every matching request until cleared
    path_contains: str = ""
    retry_after: int | None = None
    body: str | None = None
    malformed: bool = False
    endless_pages: bool = False


@dataclass(frozen=True)
class FaultRequest:
    """One POST /_admin/faults body: any mix of a rule and standing conditions."""

    rule: FaultRule | None
    latency_ms: int | None
    concurrent_limit: int | None
    rate_limit: int | None
    rate_window: int | None


def parse_fault_request(raw: Any) -> FaultRequest:
    if not isinstance(raw, Mapping):
        raise InvalidFault("expected a JSON object")
    known = {"status", "count", "path_contains", "retry_after", "body", "malformed", "endless_pages",
             "latency_ms", "concurrent_limit", "rate_limit", "rate_window"}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise InvalidFault(f"unknown fields {unknown}; allowed: {sorted(known)}")
    rule = None
    if "status" in raw or raw.get("malformed") or raw.get("endless_pages"):
        rule = _parse_rule(raw)
    request = FaultRequest(
        rule=rule,
        latency_ms=_optional_int(raw, "latency_ms", minimum=0),
        concurrent_limit=_optional_int(raw, "concurrent_limit", minimum=1),
        rate_limit=_optional_int(raw, "rate_limit", minimum=1),
        rate_window=_optional_int(raw, "rate_window", minimum=1),
    )
    if request == FaultRequest(None, None, None, None, None):
        raise InvalidFault("nothing to do: give 'status', 'malformed' or 'endless_pages', 'latency_ms', "
                           "'concurrent_limit' or 'rate_limit'")
    return request


def _parse_rule(raw: Mapping[str, Any]) -> FaultRule:
    malformed = raw.get("malformed", False)
    endless = raw.get("endless_pages", False)
    if not isinstance(malformed, bool) or not isinstance(endless, bool):
        raise InvalidFault("'malformed' and 'endless_pages' must be true or false")
    status = raw.get("status", 200 if malformed or endless else None)
    if not isinstance(status, int) or isinstance(status, bool) or not (
        ((malformed or endless) and status == 200) or 400 <= status <= 599
    ):
        raise InvalidFault(f"'status' must be 400-599 (or 200 with malformed), got {status!r}")
    count = raw.get("count", 1)
    if count is not None and (not isinstance(count, int) or isinstance(count, bool) or count < 1):
        raise InvalidFault(f"'count' must be a positive integer or null (no limit), got {count!r}")
    path_contains = raw.get("path_contains", "")
    body = raw.get("body")
    if not isinstance(path_contains, str) or (body is not None and not isinstance(body, str)):
        raise InvalidFault("'path_contains' and 'body' must be strings")
    # No Retry-After unless asked for: Sentry's rate-limit middleware never sends one.
    retry_after = _optional_int(raw, "retry_after", minimum=0)
    return FaultRule(status=status, count=count, path_contains=path_contains,
                     retry_after=retry_after, body=body, malformed=malformed, endless_pages=endless)


def _optional_int(raw: Mapping[str, Any], name: str, *, minimum: int) -> int | None:
    value = raw.get(name)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise InvalidFault(f"{name!r} must be an integer >= {minimum}, got {value!r}")
    return value


class FaultInjector:
    """Pending rules plus the per-request latency, shared by all request threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []
        self._remaining: list[int | None] = []
        self._latency_ms = 0

    @property
    def latency_seconds(self) -> float:
        return self._latency_ms / 1000

    def add(self, rule: FaultRule) -> None:
        with self._lock:
            self._rules.append(rule)
            self._remaining.append(rule.count)

    def set_latency(self, milliseconds: int) -> None:
        with self._lock:
            self._latency_ms = milliseconds

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()
            self._remaining.clear()
            self._latency_ms = 0

    def take(self, path: str) -> FaultRule | None:
        """Consumes one failure of the first matching rule, if any."""
        with self._lock:
            for i, rule in enumerate(self._rules):
                if rule.path_contains in path:
                    left = self._remaining[i]
                    if left is not None:
                        if left <= 1:
                            del self._rules[i], self._remaining[i]
                        else:
                            self._remaining[i] = left - 1
                    return rule
            return None

    def describe(self) -> dict[str, Any]:
        with self._lock:
            return {
                "latency_ms": self._latency_ms,
                "rules": [
                    {**asdict(rule), "remaining": left} for rule, left in zip(self._rules, self._remaining)
                ],
            }
