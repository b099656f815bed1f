"""Reading a list Sentry pages by offset with the next page already on its way.

Sentry pages its project lists (the organization's and a team's) with its
`OffsetPaginator`: a cursor is `per_page:page:is_prev`, so the first page's
next cursor is `100:1:0` and page k's is `100:k:0`. Those cursors can be
written before the page that offers them arrives, so the pages are asked for
two at a time: each round sends the cursor the last page offered and the
one after it, and waits for both. That takes about half the round trips of
one page after another and overshoots by at most one page: ceil(items /
per_page) + 1 requests in all.

A server whose first next cursor is not `<n>:1:0`, or whose page offers a
next cursor other than the one written ahead, is read one page after
another from the cursor it offered, as `SentryClient.paginate` would; the
page asked for ahead is then dropped unread.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from sentry_dsn_sync.sentry._client import DEFAULT_BUCKET, ListPage, PageGuard, Params, SentryClient

__all__ = ["pages_ahead"]


def pages_ahead(
    client: SentryClient,
    path: str,
    *,
    params: Params | None = None,
    what: str | None = None,
    scope: str | None = None,
    bucket: str = DEFAULT_BUCKET,
) -> Iterator[Any]:
    """Yield every item of the offset-paged list at `path`, in Sentry's order, as `SentryClient.paginate` does.

    The first page is asked for when iteration starts, and no other before its
    items are taken, so a caller can learn from one request whether the list
    answers at all.
    """

    def fetch(cursor: str) -> ListPage:
        return client.page(path, params=params, cursor=cursor, what=what, scope=scope, bucket=bucket)

    first = client.page(path, params=params, what=what, scope=scope, bucket=bucket)
    yield from first.items
    cursor = first.continuation
    if cursor is None:
        return
    guard = PageGuard(client, params)
    guard.admit(first, cursor)
    per_page = _offset_per_page(cursor)
    number = 1  # the page `cursor` points at, as long as the cursors are offset ones
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="sentry-page-ahead") as pool:
        while cursor is not None:
            written = f"{per_page}:{number + 1}:0" if per_page is not None else None
            ahead: Future[ListPage] | None = pool.submit(fetch, written) if written is not None else None
            page = fetch(cursor)
            yield from page.items
            cursor = page.continuation
            if cursor is None:
                return
            guard.admit(page, cursor)
            if ahead is None or cursor != written:
                # Not the cursors written ahead: on from the one offered, one page at a time.
                per_page = None
                continue
            page = ahead.result()
            yield from page.items
            cursor = page.continuation
            if cursor is not None:
                guard.admit(page, cursor)
            number += 2


def _offset_per_page(first_next: str) -> int | None:
    """The page size of an `OffsetPaginator` cursor to page 1 (`100:1:0`), else None."""
    parts = first_next.split(":")
    if len(parts) != 3 or parts[1:] != ["1", "0"] or not parts[0].isdigit() or int(parts[0]) == 0:
        return None
    return int(parts[0])
