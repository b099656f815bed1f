"""list_from_both_ends: an id-ordered Sentry list read newest-first and oldest-first at once."""

from __future__ import annotations

import functools
import math
import threading
from typing import Any

import httpx
import pytest

from sentry_dsn_sync.errors import SentryResponseError
from sentry_dsn_sync.sentry._both_ends import list_from_both_ends
from sentry_simulator.pagination import paginate_by_id

from .fakes import FakeClock, PagedServer, key_json, make_client, paged

PATH = "organizations/acme/project-keys/"
PARAMS = {"status": "active", "per_page": 100}


class IdPagedKeys(PagedServer):
    """Serves `count` keys the way Sentry's Paginator serves `order_by="-id"`, and records each cursor asked."""

    def __init__(self, count: int) -> None:
        # Database ids 1..count, listed newest (highest) first.
        keys = [(n, key_json(f"{n:08x}", project_id=1000 + n % 7)) for n in range(count, 0, -1)]
        super().__init__(keys, functools.partial(paginate_by_id, id_of=lambda row: row[0]), render=lambda row: row[1])
        self.keys = keys

    def from_the_oldest(self) -> int:
        return sum(1 for cursor in self.cursors if cursor is not None and cursor.endswith(":1"))


@pytest.mark.parametrize("count", [0, 1, 100, 101, 150, 200, 201, 299, 300, 500, 999, 1000, 1234, 10_000])
def test_reads_every_key_once_in_sentrys_order_within_one_request_of_a_single_chain(
    clock: FakeClock, count: int
) -> None:
    served = IdPagedKeys(count)
    client = make_client(served, clock)

    listed = list_from_both_ends(client, PATH, parse=list, params=PARAMS)
    requests = len(served.cursors)
    served.cursors.clear()

    assert listed == list(client.paginate(PATH, params=PARAMS))
    pages = max(1, math.ceil(count / 100))
    assert requests <= pages + 1
    if count <= 100:
        assert requests == 1, "a list of one page costs one request"
    else:
        # The newest-first chain reads the first page, then one page a round beside the oldest-first one.
        rounds = math.ceil((count - 100) / 200)
        assert requests == 1 + 2 * rounds


def test_large_lists_take_about_half_the_round_trips(clock: FakeClock) -> None:
    served = IdPagedKeys(10_000)
    list_from_both_ends(make_client(served, clock), PATH, parse=list, params=PARAMS)

    assert served.from_the_oldest() == 50
    assert len(served.cursors) - served.from_the_oldest() == 51
    assert served.cursors[1] == "0:0:1" or served.cursors[2] == "0:0:1"


def test_the_two_chains_are_in_flight_together(clock: FakeClock) -> None:
    served = IdPagedKeys(500)
    oldest_asked = threading.Event()
    newest_waited: list[bool] = []

    def handler(request: httpx.Request) -> httpx.Response:
        cursor = request.url.params.get("cursor")
        if cursor is not None and cursor.endswith(":1"):
            oldest_asked.set()
        elif cursor is not None:
            # One chain after the other, the oldest-first request would only come after this one.
            newest_waited.append(oldest_asked.wait(timeout=5))
        return served(request)

    listed = list_from_both_ends(make_client(handler, clock), PATH, parse=list, params=PARAMS)

    assert len(listed) == 500
    assert newest_waited == [True, True]


def test_a_server_paging_by_offset_is_read_by_one_chain_at_one_request_more(clock: FakeClock) -> None:
    # Offset cursors (`100:1:0`): a previous cursor of 0 brings the first page again, nothing new.
    pages = [[key_json(f"{page:02d}{n:06x}", project_id=1) for n in range(100)] for page in range(4)]
    calls: list[str | None] = []
    by_offset = paged(pages, url="https://sentry.example.com/api/0/" + PATH)

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.params.get("cursor"))
        return by_offset(request)

    listed = list_from_both_ends(make_client(handler, clock), PATH, parse=list, params=PARAMS)

    assert listed == [key for page in pages for key in page]
    assert len(calls) == 4 + 1


def test_an_item_without_an_id_in_the_overlap_is_listed_once(clock: FakeClock) -> None:
    served = IdPagedKeys(150)
    served.keys[120] = (served.keys[120][0], {"projectId": 1000, "isActive": True})

    listed = list_from_both_ends(make_client(served, clock), PATH, parse=list, params=PARAMS)

    assert len(listed) == 150
    assert listed.count({"projectId": 1000, "isActive": True}) == 1


def test_a_failed_page_of_either_chain_fails_the_listing(clock: FakeClock) -> None:
    served = IdPagedKeys(500)

    def handler(request: httpx.Request) -> httpx.Response:
        if (request.url.params.get("cursor") or "").endswith(":1"):
            return httpx.Response(200, json={"detail": "not a list"})
        return served(request)

    with pytest.raises(SentryResponseError, match="where a JSON list was expected"):
        list_from_both_ends(make_client(handler, clock), PATH, parse=list, params=PARAMS)


def test_each_page_is_parsed_as_it_arrives_and_only_the_parsed_items_are_listed(clock: FakeClock) -> None:
    served = IdPagedKeys(1234)
    pages_parsed: list[int] = []

    def parse(items: list[Any]) -> list[str]:
        pages_parsed.append(len(items))
        return [f"parsed {item['id']}" for item in items]

    listed = list_from_both_ends(make_client(served, clock), PATH, parse=parse, params=PARAMS)

    assert listed == [f"parsed {key['id']}" for _, key in served.keys]
    assert len(pages_parsed) == len(served.cursors), "one parse per page, as each page arrives"
