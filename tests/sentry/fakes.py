"""Fakes for the Sentry client tests: a fake clock, Sentry-shaped JSON, and a client over MockTransport."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

import httpx

from sentry_dsn_sync.config import Secret
from sentry_dsn_sync.sentry import RetryPolicy, SentryClient

TOKEN = "sntryu_TOKEN-VALUE-must-never-show-0123456789"  # a user auth token
KEY_SECRET = "f00dfacef00dfacef00dfacef00dface"
TOKEN_SOURCE = "environment variable SENTRY_AUTH_TOKEN"
BASE_URL = "https://sentry.example.com/"

Handler = Callable[[httpx.Request], httpx.Response]


class FakeClock:
    """Wall clock whose sleep only advances time, so backoff is tested without waiting."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def time(self) -> float:
        with self._lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += seconds


def retry_policy(clock: FakeClock, **overrides: Any) -> RetryPolicy:
    options: dict[str, Any] = dict(
        max_attempts=5, base_delay=1.0, max_delay=8.0, total_budget=60.0, jitter=0.0, sleep=clock.sleep, clock=clock.time
    )
    options.update(overrides)
    return RetryPolicy(**options)


def make_client(
    handler: Handler,
    clock: FakeClock,
    *,
    base_url: str = BASE_URL,
    max_concurrency: int = 8,
    **retry: Any,
) -> SentryClient:
    return SentryClient(
        base_url=base_url,
        token=Secret(TOKEN),
        token_source=TOKEN_SOURCE,
        transport=httpx.MockTransport(handler),
        retry=retry_policy(clock, **retry),
        max_concurrency=max_concurrency,
    )


def key_json(
    key_id: str,
    *,
    project_id: int = 42,
    label: str | None = None,
    active: bool = True,
    created: str | None = "2024-01-01T00:00:00.000000Z",
) -> dict[str, Any]:
    """A client key as Sentry's keys endpoints return it, secret parts included."""
    public = key_id
    host = "o1.ingest.sentry.io"
    return {
        "id": key_id,
        "name": label or f"key {key_id}",
        "label": label or f"key {key_id}",
        "public": public,
        "secret": KEY_SECRET,
        "projectId": project_id,
        "isActive": active,
        "rateLimit": None,
        "dsn": {
            "secret": f"https://{public}:{KEY_SECRET}@{host}/{project_id}",
            "public": f"https://{public}@{host}/{project_id}",
            "csp": f"https://{host}/api/{project_id}/csp-report/?sentry_key={public}",
        },
        "browserSdkVersion": "8.x",
        "browserSdk": {"choices": [["latest", "latest"]]},
        "dateCreated": created,
        "dynamicSdkLoaderOptions": {},
    }


def project_json(slug: str, project_id: int, *, teams: tuple[str, ...] = ("backend",), status: str | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": str(project_id),
        "slug": slug,
        "name": slug.title(),
        "teams": [{"id": str(i), "name": t.title(), "slug": t} for i, t in enumerate(teams)],
    }
    if status is not None:
        data["status"] = status
    return data


def link_header(url: str, *, next_cursor: str, has_next: bool, prev_cursor: str = "0:0:1") -> str:
    """Sentry's Link header: a previous and a next entry, the next one present even on the last page."""
    return (
        f'<{url}?cursor={prev_cursor}>; rel="previous"; results="false"; cursor="{prev_cursor}", '
        f'<{url}?cursor={next_cursor}>; rel="next"; results="{"true" if has_next else "false"}"; cursor="{next_cursor}"'
    )


def paged(
    pages: list[list[Any]], *, url: str
) -> Callable[[httpx.Request], httpx.Response]:
    """A handler serving `pages` by cursor ('' for the first), Sentry-style."""
    def handler(request: httpx.Request) -> httpx.Response:
        cursor = request.url.params.get("cursor", "")
        index = int(cursor.split(":")[1]) if cursor else 0
        has_next = index + 1 < len(pages)
        return httpx.Response(
            200,
            # Past the last page, an empty one, as Sentry's OffsetPaginator answers.
            json=pages[index] if index < len(pages) else [],
            headers={"Link": link_header(url, next_cursor=f"100:{index + 1}:0", has_next=has_next)},
        )

    return handler


class PagedServer:
    """Serves `rows` through one of the simulator's paginations (Sentry's own), and records each cursor asked.

    `paginate` takes the rows and the request's cursor, page size, URL and query,
    as `sentry_simulator.pagination.paginate` does; `render` makes a row JSON.
    """

    def __init__(
        self,
        rows: Sequence[Any],
        paginate: Callable[..., Any],
        *,
        render: Callable[[Any], Any] = lambda row: row,
        default_per_page: int = 10,
    ) -> None:
        self.rows = rows
        self.cursors: list[str | None] = []
        self._paginate = paginate
        self._render = render
        self._default_per_page = default_per_page
        self._lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        cursor = request.url.params.get("cursor")
        with self._lock:
            self.cursors.append(cursor)
        page = self._paginate(
            self.rows,
            cursor=cursor,
            per_page=int(request.url.params.get("per_page", str(self._default_per_page))),
            url=str(request.url.copy_with(query=None)),
            query=request.url.params.multi_items(),
        )
        return httpx.Response(200, json=[self._render(row) for row in page.items], headers={"Link": page.link_header})


class PairedPages:
    """Wraps a handler of offset-paged rows: page 2k-1 is answered only once page 2k is asked for too.

    Read page after page, the next page would be asked for only after that answer,
    so each wait times out: `waited` records, per odd page, whether its pair came.
    """

    def __init__(self, served: Handler, *, pages: int, per_page: int = 100, timeout: float = 5.0) -> None:
        self._served = served
        self._per_page = per_page
        self._timeout = timeout
        self._asked = {f"{per_page}:{n}:0": threading.Event() for n in range(1, pages + 1)}
        self.waited: list[bool] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        cursor = request.url.params.get("cursor")
        if cursor in self._asked:
            self._asked[cursor].set()
            number = int(cursor.split(":")[1])
            pair = self._asked.get(f"{self._per_page}:{number + 1}:0")
            if number % 2 == 1 and pair is not None:
                self.waited.append(pair.wait(timeout=self._timeout))
        return self._served(request)
