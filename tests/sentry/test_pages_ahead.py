"""pages_ahead: an offset-paged Sentry list read two pages at a time."""

from __future__ import annotations

import math
from typing import Any

import httpx
import pytest

from sentry_dsn_sync.errors import SentryResponseError
from sentry_dsn_sync.sentry._pages_ahead import pages_ahead
from sentry_simulator.pagination import paginate

from .fakes import FakeClock, PagedServer, PairedPages, link_header, make_client

PATH = "organizations/acme/projects/"
PARAMS = {"per_page": 100}


class OffsetPagedProjects(PagedServer):
    """Serves `count` projects the way Sentry's OffsetPaginator does, and records each cursor asked."""

    def __init__(self, count: int) -> None:
        super().__init__([{"id": str(n), "slug": f"project-{n:05d}"} for n in range(count)], paginate)
        self.projects = self.rows


@pytest.mark.parametrize("count", [0, 1, 100, 101, 150, 200, 201, 250, 300, 301, 500, 999, 1000, 5000])
def test_reads_every_project_once_in_sentrys_order_within_one_request_of_one_page_at_a_time(
    clock: FakeClock, count: int
) -> None:
    served = OffsetPagedProjects(count)
    client = make_client(served, clock)

    listed = list(pages_ahead(client, PATH, params=PARAMS))
    requests = len(served.cursors)
    served.cursors.clear()

    assert listed == list(client.paginate(PATH, params=PARAMS)) == served.projects
    pages = max(1, math.ceil(count / 100))
    assert len(served.cursors) == pages
    assert requests <= pages + 1
    # The first page, then two pages a round: the second of the last round may be past the end.
    assert requests == 1 + 2 * math.ceil((pages - 1) / 2)


def test_the_first_page_alone_is_asked_for_before_its_items_are_taken(clock: FakeClock) -> None:
    served = OffsetPagedProjects(1000)
    listing = pages_ahead(make_client(served, clock), PATH, params=PARAMS)

    first = next(listing)

    assert first == served.projects[0]
    assert served.cursors == [None]


def test_two_pages_are_in_flight_together(clock: FakeClock) -> None:
    paired = PairedPages(OffsetPagedProjects(500), pages=5)

    listed = list(pages_ahead(make_client(paired, clock), PATH, params=PARAMS))

    assert len(listed) == 500
    assert paired.waited == [True, True]


def test_cursors_of_another_kind_are_followed_one_page_at_a_time(clock: FakeClock) -> None:
    # Row offsets (`0:100:0`) instead of Sentry's page numbers: nothing can be written ahead.
    projects = [{"id": str(n), "slug": f"p{n}"} for n in range(350)]
    cursors: list[str | None] = []
    url = "https://sentry.example.com/api/0/" + PATH

    def handler(request: httpx.Request) -> httpx.Response:
        cursor = request.url.params.get("cursor")
        cursors.append(cursor)
        start = int(cursor.split(":")[1]) if cursor else 0
        following = f"0:{start + 100}:0"
        link = link_header(url, next_cursor=following, has_next=start + 100 < len(projects))
        return httpx.Response(200, json=projects[start : start + 100], headers={"Link": link})

    listed = list(pages_ahead(make_client(handler, clock), PATH, params=PARAMS))

    assert listed == projects
    assert cursors == [None, "0:100:0", "0:200:0", "0:300:0"]


def test_a_page_offering_another_cursor_than_the_one_written_ahead_is_followed_and_the_page_ahead_dropped(
    clock: FakeClock,
) -> None:
    served = OffsetPagedProjects(600)

    def handler(request: httpx.Request) -> httpx.Response:
        response = served(request)
        if request.url.params.get("cursor") == "100:1:0":
            # Page 1 points at page 3, skipping page 2, as a server is free to.
            link = link_header(str(request.url.copy_with(query=None)), next_cursor="100:3:0", has_next=True)
            return httpx.Response(200, json=response.json(), headers={"Link": link})
        return response

    listed = list(pages_ahead(make_client(handler, clock), PATH, params=PARAMS))

    assert [p["slug"] for p in listed] == [p["slug"] for p in served.projects[:200] + served.projects[300:]]
    assert served.cursors.count("100:2:0") == 1, "asked for ahead, then dropped unread"
    assert served.cursors[3:] == ["100:3:0", "100:4:0", "100:5:0"], "then one page at a time"


def test_a_failed_page_ahead_fails_the_listing(clock: FakeClock) -> None:
    served = OffsetPagedProjects(500)

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("cursor") == "100:2:0":
            return httpx.Response(200, json={"detail": "not a list"})
        return served(request)

    with pytest.raises(SentryResponseError, match="where a JSON list was expected"):
        list(pages_ahead(make_client(handler, clock), PATH, params=PARAMS))


def test_a_cursor_offered_twice_stops_the_listing(clock: FakeClock) -> None:
    url = "https://sentry.example.com/api/0/" + PATH

    def handler(request: httpx.Request) -> httpx.Response:
        body: list[Any] = [{"id": "1", "slug": "again"}]
        return httpx.Response(200, json=body, headers={"Link": link_header(url, next_cursor="100:1:0", has_next=True)})

    with pytest.raises(SentryResponseError, match="pagination loop"):
        list(pages_ahead(make_client(handler, clock), PATH, params=PARAMS))
