"""Cursor pagination with Sentry's `Link` header.

Sentry always sends both a `previous` and a `next` link, each saying with
`results="true"|"false"` whether following it yields anything. A client that
stops on a missing next link (instead of `results="false"`) loops forever or
stops early against real Sentry; the simulator reproduces the exact header so
such a client fails here first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar
from urllib.parse import urlencode

from .messages import Request, Response, json_array_response

__all__ = [
    "DEFAULT_PER_PAGE",
    "endless_page",
    "KEYS_DEFAULT_PER_PAGE",
    "MAX_PER_PAGE",
    "Cursor",
    "InvalidPagination",
    "Page",
    "paginate",
    "parse_per_page",
]

# Sentry's paginator: `per_page` may go up to 100 on every list endpoint.
MAX_PER_PAGE = 100
# What a list answers without `per_page`: 100 for project lists, but the
# client-key lists (project keys, organization project keys) pass
# `default_per_page=10`. A client that forgets `per_page` on those pays ten
# times the requests at scale; the simulator reproduces it so tests notice.
DEFAULT_PER_PAGE = 100
KEYS_DEFAULT_PER_PAGE = 10

T = TypeVar("T")


class InvalidPagination(ValueError):
    """A bad `cursor` or `per_page`; the message is Sentry's 400 `detail`."""


@dataclass(frozen=True)
class Cursor:
    """Sentry's `value:offset:is_prev`; here `offset` is the index of the first row."""

    value: int
    offset: int
    is_prev: bool

    @classmethod
    def parse(cls, text: str) -> Cursor:
        parts = text.split(":")
        try:
            if len(parts) != 3:
                raise ValueError(text)
            value, offset, is_prev = int(float(parts[0])), int(parts[1]), int(parts[2])
        except ValueError as exc:
            raise InvalidPagination("Invalid cursor parameter.") from exc
        if offset < 0 or is_prev not in (0, 1):
            raise InvalidPagination("Invalid cursor parameter.")
        return cls(value=value, offset=offset, is_prev=bool(is_prev))

    def __str__(self) -> str:
        return f"{self.value}:{self.offset}:{int(self.is_prev)}"


@dataclass(frozen=True)
class Page(Generic[T]):
    items: Sequence[T]
    link_header: str


def parse_per_page(raw: str | None, *, default: int) -> int:
    if raw is None:
        return default
    try:
        per_page = int(raw)
    except ValueError as exc:
        raise InvalidPagination("Invalid per_page parameter.") from exc
    limit = max(MAX_PER_PAGE, default)
    if per_page > limit:
        raise InvalidPagination(f"Invalid per_page value. Cannot exceed {limit}.")
    # Sentry's paginator clamps a zero or negative page size instead of refusing it.
    return max(1, per_page)


def paginate(
    rows: Sequence[T],
    *,
    cursor: str | None,
    per_page: int,
    url: str,
    query: Sequence[tuple[str, str]],
) -> Page[T]:
    """One page of `rows` and the `Link` header pointing around it.

    `url` is the absolute URL of the request without its query string; the
    links keep every other query parameter, as Sentry's do.
    """
    # An empty cursor means "first page" to Sentry, not an error.
    start = Cursor.parse(cursor).offset if cursor else 0
    items = rows[start : start + per_page]
    previous = Cursor(0, max(start - per_page, 0), True)
    following = Cursor(0, start + per_page, False)
    kept = urlencode([(k, v) for k, v in query if k != "cursor"])
    link = ", ".join(
        (
            _link(url, kept, previous, rel="previous", has_results=start > 0),
            _link(url, kept, following, rel="next", has_results=start + per_page < len(rows)),
        )
    )
    return Page(items=items, link_header=link)


def endless_page(request: Request) -> Response:
    """A fault: an empty page whose next link still says `results="true"`, with a cursor never seen before."""
    try:
        offset = Cursor.parse(request.param("cursor") or "0:0:0").offset
    except InvalidPagination:
        offset = 0
    following = Cursor(0, offset + MAX_PER_PAGE, False)
    kept = urlencode([(k, v) for k, v in request.query if k != "cursor"])
    link = _link(request.url, kept, following, rel="next", has_results=True)
    return json_array_response(200, [], ("Link", link))


def _link(url: str, query: str, cursor: Cursor, *, rel: str, has_results: bool) -> str:
    # Sentry's own quirk, kept on purpose: "?&cursor=" when there is no other query.
    results = "true" if has_results else "false"
    return f'<{url}?{query}&cursor={cursor}>; rel="{rel}"; results="{results}"; cursor="{cursor}"'
