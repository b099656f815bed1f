"""Cursor pagination with Sentry's `Link` header.

Sentry always sends both a `previous` and a `next` link, each saying with
`results="true"|"false"` whether following it yields anything. A client that
stops on a missing next link (instead of `results="false"`) loops forever or
stops early against real Sentry; the simulator reproduces the exact header so
such a client fails here first.

Lists ordered by database id (the client-key lists, `order_by="-id"`) page
the way Sentry's `Paginator` does (`sentry/api/paginator.py`,
`sentry/utils/cursors.py`): a cursor `value:offset:is_prev` holds an id,
a next page is `id <= value`, and a previous cursor walks the other way,
from the far end of the list when its value is 0. The project lists page
the way its `OffsetPaginator` does: a cursor `per_page:page:is_prev` names a
page by its number.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
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
    "paginate_by_id",
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
    """Sentry's `value:offset:is_prev`: by offset, `value` is the page size and `offset` the page's
    number; by id, `value` is an id and `offset` the rows to skip past it."""

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
        if is_prev not in (0, 1):
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
    """One page of `rows` and the `Link` header pointing around it, as Sentry's `OffsetPaginator` serves them.

    `url` is the absolute URL of the request without its query string; the
    links keep every other query parameter, as Sentry's do.
    """
    # An empty cursor means "first page" to Sentry, not an error.
    at = Cursor.parse(cursor) if cursor else Cursor(0, 0, False)
    page = at.offset
    # The cursor's own page size places the page, the request's sizes it (paginator.py get_result).
    start = page * at.value
    if start < 0:
        raise InvalidPagination("Pagination offset cannot be negative")
    results = list(rows[start : start + (at.value or per_page) + 1])
    if at.value != per_page:
        results = results[-(per_page + 1) :]
    following = _Around(Cursor(per_page, page + 1, False), len(results) > per_page)
    previous = _Around(Cursor(per_page, page - 1, True), page > 0)
    link = _link_header(url, query, previous=previous, following=following)
    return Page(items=results[:per_page], link_header=link)


def paginate_by_id(
    rows: Sequence[T],
    *,
    id_of: Callable[[T], int],
    cursor: str | None,
    per_page: int,
    url: str,
    query: Sequence[tuple[str, str]],
) -> Page[T]:
    """One page of `rows` (newest first, that is by descending id) as Sentry's `Paginator` serves it."""
    at = Cursor.parse(cursor) if cursor else Cursor(0, 0, False)
    if at.offset < 0:
        raise InvalidPagination("Invalid cursor parameter.")
    # A previous cursor reverses the order, so that the page ends where the last one began.
    # The cursor's id is found by bisection, as a database index finds it, not by
    # testing every row: a benchmark reads a list of 10000 keys a hundred at a time.
    def descending(row: T) -> int:
        return -id_of(row)

    if at.is_prev:
        ordered = list(rows[: bisect_right(rows, -at.value, key=descending) if at.value else len(rows)])
        ordered.reverse()
    else:
        ordered = list(rows[bisect_left(rows, -at.value, key=descending) if at.value else 0 :])
    # One row more than the page tells whether there is more; a previous cursor also
    # fetches the row it was made from, dropped below when it is still there.
    extra = 2 if at.is_prev and at.value else 1
    stop = at.offset + per_page + extra
    results = ordered[at.offset : stop]
    if at.is_prev and at.value:
        if results and id_of(results[0]) == at.value:
            results = results[1:]
        elif len(results) == stop:
            results = results[:-1]
    if at.is_prev:
        results.reverse()
    ids = [id_of(r) for r in results]
    following = _next_by_id(at, ids, per_page)
    previous = _previous_by_id(at, ids, per_page)
    if at.is_prev and previous.has_results:
        results = results[1:]
    elif not at.is_prev:
        results = results[:per_page]
    return Page(items=results, link_header=_link_header(url, query, previous=previous, following=following))


@dataclass(frozen=True)
class _Around:
    """A cursor to a neighbouring page, and whether following it yields anything."""

    cursor: Cursor
    has_results: bool


def _next_by_id(at: Cursor, ids: list[int], per_page: int) -> _Around:
    # cursors.py `_build_next_values`, for a descending order.
    value = at.value or (ids[0] if ids else 0)
    if at.is_prev:
        return _Around(Cursor(value, 0, False), True)
    if not ids:
        return _Around(Cursor(value, at.offset, False), False)
    has_next = len(ids) > per_page
    next_value = ids[-1]
    if next_value == value:
        return _Around(Cursor(next_value, at.offset + per_page, False), has_next)
    following = list(reversed(ids))[1 if has_next else 0 :]
    offset = 0
    for row_id in following:
        if row_id > next_value:
            break
        offset += 1
    return _Around(Cursor(next_value, offset, False), has_next)


def _previous_by_id(at: Cursor, ids: list[int], per_page: int) -> _Around:
    # cursors.py `_build_prev_values`, for a descending order.
    has_prev = len(ids) > per_page if at.is_prev else bool(at.value or at.offset)
    first = 1 if at.is_prev and has_prev else 0
    prev_value = ids[first] if ids else 0
    if not (at.is_prev and ids):
        return _Around(Cursor(prev_value, at.offset if at.is_prev else 0, True), has_prev)
    if prev_value == at.value:
        return _Around(Cursor(prev_value, at.offset + per_page, True), has_prev)
    offset = 0
    for row_id in ids[first + 1 :]:
        if row_id < prev_value:
            break
        offset += 1
    return _Around(Cursor(prev_value, offset, True), has_prev)


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


def _link_header(url: str, query: Sequence[tuple[str, str]], *, previous: _Around, following: _Around) -> str:
    """Sentry's `Link` header: both entries, always, each keeping every other query parameter."""
    kept = urlencode([(k, v) for k, v in query if k != "cursor"])
    return ", ".join(
        (
            _link(url, kept, previous.cursor, rel="previous", has_results=previous.has_results),
            _link(url, kept, following.cursor, rel="next", has_results=following.has_results),
        )
    )


def _link(url: str, query: str, cursor: Cursor, *, rel: str, has_results: bool) -> str:
    # Sentry's own quirk, kept on purpose: "?&cursor=" when there is no other query.
    results = "true" if has_results else "false"
    return f'<{url}?{query}&cursor={cursor}>; rel="{rel}"; results="{results}"; cursor="{cursor}"'
