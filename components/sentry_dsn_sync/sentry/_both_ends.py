"""Reading a list Sentry orders by database id from both of its ends at once.

Sentry pages its client-key lists with its id `Paginator` (`order_by="-id"`):
a cursor is `id:offset:is_prev`, the next page holds the ids at or below the
next cursor's id, and a previous cursor walks the other way. A previous cursor
whose id is 0 starts from the far end, the oldest keys. So a large list can be
read by two chains of requests, newest-first and oldest-first, side by side,
in about half the round trips of one chain. Each round sends one request per
chain and waits for both, so the chains overshoot by at most one page:
ceil(items / per_page) + 1 requests in all.

The two chains have met when the next id the newest-first chain would read
is at or below the highest id the oldest-first one has read; both ids are
the cursors' own. A server that pages another way (its previous-cursor page
brings nothing the newest-first chain has not read, or its cursors are not
ids) is read by the newest-first chain alone, as `SentryClient.paginate`
would.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sentry_dsn_sync.sentry._client import DEFAULT_BUCKET, ListPage, PageGuard, Params, SentryClient

__all__ = ["list_from_both_ends"]

T = TypeVar("T")

# A previous cursor with no id: Sentry's Paginator reads from the far end of the list.
_FROM_THE_OLDEST = "0:0:1"


def list_from_both_ends(
    client: SentryClient,
    path: str,
    *,
    parse: Callable[[list[Any]], list[T]],
    params: Params | None = None,
    what: str | None = None,
    scope: str | None = None,
    bucket: str = DEFAULT_BUCKET,
) -> list[T]:
    """Every item of the id-ordered list at `path`, newest first as `SentryClient.paginate` yields
    them, each page passed through `parse` (one item out per item in) as it arrives."""

    def fetch(cursor: str | None) -> _Page[T]:
        listed = client.page(path, params=params, cursor=cursor, what=what, scope=scope, bucket=bucket)
        return _Page(listed, parse(listed.items))

    first = fetch(None)
    # Only a list of more than one page gets the second chain, so a small one costs one request.
    following = first.listed.continuation
    if following is None:
        return first.parsed
    newest = _Chain(first, following)
    guard = PageGuard(client, params)
    guard.admit(first.listed, following)
    if _cursor_id(following, previous=False) is None:
        return newest.finish_alone(fetch, guard)
    oldest: _Chain[T] = _Chain(None, _FROM_THE_OLDEST)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="sentry-oldest-keys") as pool:
        while True:
            from_oldest = pool.submit(fetch, oldest.cursor)
            newest.take(fetch(newest.cursor), guard)
            page = from_oldest.result()
            if newest.cursor is None:
                # The newest-first chain reached the end: it alone has read everything.
                return newest.items_with(oldest)
            if not oldest.extends_past(newest, page):
                return newest.finish_alone(fetch, guard)
            oldest.take_previous(page, guard)
            if oldest.cursor is None or _met(newest.cursor, oldest.cursor):
                return newest.items_with(oldest)


class _Page(Generic[T]):
    """A page as listed, with its items parsed, while it is being taken into a chain."""

    def __init__(self, listed: ListPage, parsed: list[T]) -> None:
        self.listed = listed
        self.parsed = parsed
        self.ids: list[str | None] = [_item_id(item) for item in listed.items]


@dataclass(frozen=True)
class _Read(Generic[T]):
    """What a chain keeps of a page: its parsed items and the id each had (None: it had none).

    Not the page as listed: Sentry's items are larger than what the caller
    keeps, and at 10000 keys holding them all until the end cost the provider
    about 35 MB.
    """

    parsed: list[T]
    ids: list[str | None]
    # Items without an id (malformed ones, rare) are told apart whole.
    anonymous: list[Any]

    @classmethod
    def of(cls, page: _Page[T]) -> _Read[T]:
        anonymous = [item for item, item_id in zip(page.listed.items, page.ids) if item_id is None]
        return cls(page.parsed, page.ids, anonymous)


class _Chain(Generic[T]):
    """The pages one chain has read, and the cursor it reads next (None: it reached its end)."""

    def __init__(self, first: _Page[T] | None, cursor: str | None) -> None:
        self.pages: list[_Read[T]] = [_Read.of(first)] if first is not None else []
        self.cursor = cursor
        self.ids: set[str | None] = set(first.ids) if first is not None else set()
        self.last_page_ids: set[str | None] = set()

    def take(self, page: _Page[T], guard: PageGuard) -> None:
        """A newest-first page: it ends the chain when it is empty or offers no next page."""
        self.pages.append(_Read.of(page))
        self.last_page_ids = set(page.ids)
        self.ids.update(self.last_page_ids)
        self.cursor = page.listed.continuation
        if self.cursor is not None:
            guard.admit(page.listed, self.cursor)

    def take_previous(self, page: _Page[T], guard: PageGuard) -> None:
        """An oldest-first page, which Sentry serves newest first like every page."""
        self.pages.append(_Read.of(page))
        self.cursor = page.listed.previous_cursor
        if self.cursor is not None:
            guard.admit(page.listed, self.cursor)

    def extends_past(self, newest: _Chain[T], page: _Page[T]) -> bool:
        """Whether `page`, read beside the newest-first chain's last page, is what Sentry's Paginator
        gives an oldest-first chain: items that chain had not read before that page, and a previous
        cursor that is an id above the last one (or none)."""
        fresh = any(
            item_id is not None and (item_id not in newest.ids or item_id in newest.last_page_ids)
            for item_id in page.ids
        )
        if not fresh:
            return False
        if page.listed.previous_cursor is None:
            return True
        reached = _cursor_id(page.listed.previous_cursor, previous=True)
        before = _cursor_id(self.cursor, previous=True) if self.cursor != _FROM_THE_OLDEST else 0
        return reached is not None and before is not None and reached > before

    def finish_alone(self, fetch: Callable[[str | None], _Page[T]], guard: PageGuard) -> list[T]:
        while self.cursor is not None:
            self.take(fetch(self.cursor), guard)
        return [item for page in self.pages for item in page.parsed]

    def items_with(self, oldest: _Chain[T]) -> list[T]:
        """This chain's items, then the other chain's items it has not read, all newest first."""
        items = [item for page in self.pages for item in page.parsed]
        anonymous = [item for page in self.pages for item in page.anonymous]
        for page in reversed(oldest.pages):
            unread = iter(page.anonymous)
            for item_id, item in zip(page.ids, page.parsed):
                if item_id is None:
                    if next(unread) not in anonymous:
                        items.append(item)
                elif item_id not in self.ids:
                    items.append(item)
        return items


def _met(newest_cursor: str, oldest_cursor: str) -> bool:
    next_id = _cursor_id(newest_cursor, previous=False)
    highest_read = _cursor_id(oldest_cursor, previous=True)
    return next_id is not None and highest_read is not None and next_id <= highest_read


def _cursor_id(cursor: str | None, *, previous: bool) -> int | None:
    """The id of a Paginator cursor `id:offset:is_prev` going the expected way, else None.

    An id of 0 is no row's: it is how offset-paged lists and first pages spell their cursors.
    """
    parts = (cursor or "").split(":")
    if len(parts) != 3 or not all(part.isdigit() for part in parts) or int(parts[0]) == 0:
        return None
    return int(parts[0]) if parts[2] == ("1" if previous else "0") else None


def _item_id(item: Any) -> str | None:
    value = item.get("id") if isinstance(item, dict) else None
    return value if isinstance(value, str) else None
