"""Plain request and response values, so routing logic never touches sockets.

The HTTP layer (`server.py`) turns bytes into a `Request`, the simulator turns
that into a `Response`; everything in between is testable without a server.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

__all__ = [
    "Request",
    "Response",
    "detail_response",
    "json_array_response",
    "json_response",
]


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # percent-encoded, as sent, without the query string
    query: tuple[tuple[str, str], ...]
    headers: Mapping[str, str]  # lower-case names
    body: bytes
    origin: str  # scheme://host[:port] the client used to reach us

    def param(self, name: str) -> str | None:
        for key, value in self.query:
            if key == name:
                return value
        return None

    def json(self) -> Any:
        """The body as JSON; an empty body reads as `{}` for bodiless admin calls."""
        return json.loads(self.body) if self.body.strip() else {}

    @property
    def url(self) -> str:
        """Absolute URL without the query string: the base of Link headers."""
        return self.origin + self.path


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = ()

    def with_headers(self, *headers: tuple[str, str]) -> Response:
        return replace(self, headers=self.headers + headers)


def json_response(status: int, payload: Any, *headers: tuple[str, str]) -> Response:
    # Compact separators: pages of 100 keys are ~150 kB and every byte is copied.
    body = json.dumps(payload, separators=(",", ":")).encode()
    return Response(status=status, body=body, headers=headers)


def json_array_response(status: int, items: list[bytes], *headers: tuple[str, str]) -> Response:
    """A JSON array from already-encoded items, so cached encodings are reused as is."""
    return Response(status=status, body=b"[" + b",".join(items) + b"]", headers=headers)


def detail_response(status: int, detail: str, *headers: tuple[str, str]) -> Response:
    """Sentry's error shape: `{"detail": "..."}`."""
    return json_response(status, {"detail": detail}, *headers)
