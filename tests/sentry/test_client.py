"""SentryClient: URLs, auth, pagination, retries, rate limits and error mapping, over MockTransport."""

from __future__ import annotations

import ssl
import threading
import time
from typing import Any

import httpx
import pytest

from sentry_dsn_sync.config import Secret
from sentry_dsn_sync.errors import (
    ConfigError,
    SentryAuthError,
    SentryError,
    SentryNotFoundError,
    SentryPermissionError,
    SentryProjectRenamedError,
    SentryRateLimitError,
    SentryResponseError,
    SentryUnavailableError,
)
from sentry_dsn_sync.sentry import SentryClient, api_path, parse_link_header

from .fakes import TOKEN, TOKEN_SOURCE, FakeClock, link_header, make_client, paged, retry_policy

ORG_PROJECTS = "https://sentry.example.com/api/0/organizations/acme/projects/"


def ok(json: Any = None, **headers: str) -> httpx.Response:
    return httpx.Response(200, json={} if json is None else json, headers=headers)


def assert_no_token(error: BaseException, client: SentryClient | None = None) -> None:
    texts = [str(error), repr(error), getattr(error, "url", ""), repr(error.__dict__)]
    if client is not None:
        texts.append(repr(client))
    for text in texts:
        assert TOKEN not in text


# --- base URLs and paths -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("base_url", "expected"),
    [
        ("https://sentry.io/", "https://sentry.io/api/0/projects/acme/web/"),
        ("https://sentry.io", "https://sentry.io/api/0/projects/acme/web/"),
        ("https://de.sentry.io/", "https://de.sentry.io/api/0/projects/acme/web/"),
        ("https://us.sentry.io", "https://us.sentry.io/api/0/projects/acme/web/"),
        ("https://example.com/sentry/", "https://example.com/sentry/api/0/projects/acme/web/"),
        ("https://example.com/sentry", "https://example.com/sentry/api/0/projects/acme/web/"),
        ("https://example.com/sentry/api/0/", "https://example.com/sentry/api/0/projects/acme/web/"),
        ("http://127.0.0.1:9000", "http://127.0.0.1:9000/api/0/projects/acme/web/"),
    ],
)
def test_every_base_url_form_reaches_the_api_root_below_it(base_url: str, expected: str, clock: FakeClock) -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return ok({"id": "1"})

    client = make_client(handler, clock, base_url=base_url)
    client.get_json(api_path("projects/{}/{}/", "acme", "web"))
    assert seen == [expected]


def test_a_base_url_that_is_not_http_is_a_config_error(clock: FakeClock) -> None:
    with pytest.raises(ConfigError, match="ftp://sentry.io"):
        make_client(lambda r: ok(), clock, base_url="ftp://sentry.io")


def test_the_token_travels_only_as_a_bearer_header(clock: FakeClock) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return ok([])

    client = make_client(handler, clock)
    client.get_json("organizations/acme/projects/", params={"status": "active"})
    (request,) = seen
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert TOKEN not in str(request.url)
    assert TOKEN not in repr(client)


@pytest.mark.parametrize(
    ("slug", "segment"),
    [
        ("web app", "web%20app"),
        ("a/b", "a%2Fb"),
        ("a?b#c", "a%3Fb%23c"),
        ("100%", "100%25"),
        ("münchen", "m%C3%BCnchen"),
    ],
)
def test_path_values_are_quoted_so_a_slug_cannot_change_the_endpoint(
    slug: str, segment: str, clock: FakeClock
) -> None:
    seen: list[bytes] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.raw_path)
        return ok()

    client = make_client(handler, clock)
    client.get_json(api_path("projects/{}/{}/keys/", "acme", slug))
    assert seen == [f"/api/0/projects/acme/{segment}/keys/".encode()]


@pytest.mark.parametrize("value", ["", ".", ".."])
def test_dot_segments_and_empty_values_are_refused_in_paths(value: str) -> None:
    with pytest.raises(ValueError, match="path segment"):
        api_path("projects/{}/{}/", "acme", value)


def test_client_counts_every_request_it_sends(clock: FakeClock) -> None:
    client = make_client(lambda r: ok(), clock)
    for _ in range(3):
        client.get_json("organizations/acme/")
    assert client.request_count == 3


# --- Link header and pagination ---------------------------------------------------------------------


def test_link_header_entries_carry_rel_results_and_cursor() -> None:
    header = link_header(ORG_PROJECTS, next_cursor="100:1:0", has_next=True, prev_cursor="100:-1:1")
    previous, nxt = parse_link_header(header)
    assert (previous.rel, previous.results, previous.cursor) == ("previous", False, "100:-1:1")
    assert (nxt.rel, nxt.results, nxt.cursor) == ("next", True, "100:1:0")
    assert nxt.url == f"{ORG_PROJECTS}?cursor=100:1:0"


def test_link_header_on_the_last_page_says_results_false() -> None:
    header = link_header(ORG_PROJECTS, next_cursor="100:3:0", has_next=False)
    assert [e.results for e in parse_link_header(header)] == [False, False]


def test_paginate_collects_every_page_including_the_last(clock: FakeClock) -> None:
    pages = [[1, 2], [3, 4], [5]]
    client = make_client(paged(pages, url=ORG_PROJECTS), clock)
    assert list(client.paginate("organizations/acme/projects/")) == [1, 2, 3, 4, 5]
    assert client.request_count == 3


def test_paginate_keeps_the_query_parameters_on_every_page(clock: FakeClock) -> None:
    seen: list[dict[str, str]] = []
    serve = paged([[1], [2], [3]], url=ORG_PROJECTS)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(dict(request.url.params))
        return serve(request)

    client = make_client(handler, clock)
    list(client.paginate("organizations/acme/project-keys/", params={"status": "active", "team": None}))
    assert seen == [
        {"status": "active"},
        {"status": "active", "cursor": "100:1:0"},
        {"status": "active", "cursor": "100:2:0"},
    ]


def test_paginate_stops_without_a_link_header(clock: FakeClock) -> None:
    client = make_client(lambda r: ok([1, 2]), clock)
    assert list(client.paginate("organizations/acme/projects/")) == [1, 2]
    assert client.request_count == 1


def test_a_cursor_returned_twice_is_a_pagination_loop_error(clock: FakeClock) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        # Stops offering more after a few pages, so a missing guard fails the test instead of hanging it.
        header = link_header(ORG_PROJECTS, next_cursor="100:1:0", has_next=len(seen) < 5)
        seen.append(request)
        return ok([request.url.params.get("cursor", "first")], Link=header)

    client = make_client(handler, clock)
    items: list[Any] = []
    with pytest.raises(SentryResponseError, match="pagination loop") as caught:
        items.extend(client.paginate("organizations/acme/projects/"))
    assert items == ["first", "100:1:0"]
    assert caught.value.url == f"{ORG_PROJECTS}?cursor=100%3A1%3A0"
    assert client.request_count == 2


def test_a_next_link_on_another_host_is_followed_by_its_cursor_on_sentry_url(clock: FakeClock) -> None:
    # Sentry builds link URLs from its own url-prefix: an internal name, or http behind a TLS proxy.
    serve = paged([[1, 2], [3]], url="http://sentry-web.internal:9000/api/0/organizations/acme/projects/")
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return serve(request)

    client = make_client(handler, clock)
    assert list(client.paginate("organizations/acme/projects/", params={"per_page": 2})) == [1, 2, 3]
    assert [str(r.url) for r in seen] == [
        f"{ORG_PROJECTS}?per_page=2",
        f"{ORG_PROJECTS}?per_page=2&cursor=100%3A1%3A0",
    ]


def test_an_empty_page_ends_a_listing_even_when_its_link_offers_more(clock: FakeClock) -> None:
    counter = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        counter["n"] += 1
        items = [counter["n"]] if counter["n"] == 1 else []
        return ok(items, Link=link_header(ORG_PROJECTS, next_cursor=f"0:{counter['n']}00:0", has_next=True))

    client = make_client(handler, clock)
    assert list(client.paginate("organizations/acme/projects/")) == [1]
    assert client.request_count == 2


def test_a_previous_link_without_a_cursor_does_not_stop_a_listing(clock: FakeClock) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        last = request.url.params.get("cursor") is not None
        link = (
            f'<{ORG_PROJECTS}>; rel="previous"; results="true", '
            f'<{ORG_PROJECTS}?cursor=0:100:0>; rel="next"; results="{"false" if last else "true"}"; cursor="0:100:0"'
        )
        return ok([2] if last else [1], Link=link)

    client = make_client(handler, clock)
    assert list(client.paginate("organizations/acme/projects/")) == [1, 2]


def test_a_listing_longer_than_an_organization_holds_is_stopped_with_a_clear_error(
    clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sentry_dsn_sync.sentry._client as client_module

    monkeypatch.setattr(client_module, "MAX_LISTED_ITEMS", 300)
    counter = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        counter["n"] += 1
        return ok(list(range(100)), Link=link_header(ORG_PROJECTS, next_cursor=f"0:{counter['n']}00:0", has_next=True))

    client = make_client(handler, clock)
    with pytest.raises(SentryResponseError, match="more pages after 3 pages of 100 .*more than a Sentry organization"):
        list(client.paginate("organizations/acme/projects/", params={"per_page": 100}))
    assert client.request_count == 3


def test_a_page_that_is_not_a_list_is_a_response_error(clock: FakeClock) -> None:
    client = make_client(lambda r: ok({"detail": "nope"}), clock)
    with pytest.raises(SentryResponseError, match="organizations/acme/projects/ with a JSON object .*list"):
        list(client.paginate("organizations/acme/projects/"))


# --- 429 and rate-limit headers ---------------------------------------------------------------------


def scripted(*responses: httpx.Response | Exception) -> tuple[list[httpx.Request], Any]:
    """A handler answering with `responses` in order, recording each request."""
    seen: list[httpx.Request] = []
    queue = list(responses)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        item = queue.pop(0)
        if isinstance(item, Exception):
            raise item
        return item

    return seen, handler


def test_429_waits_retry_after_then_succeeds(clock: FakeClock) -> None:
    seen, handler = scripted(httpx.Response(429, headers={"Retry-After": "7"}), ok({"slug": "web"}))
    client = make_client(handler, clock)
    assert client.get_json("projects/acme/web/") == {"slug": "web"}
    assert clock.sleeps == [7.0]
    assert len(seen) == 2


def test_429_without_retry_after_waits_until_the_window_resets(clock: FakeClock) -> None:
    reset = str(int(clock.now) + 12)
    _, handler = scripted(httpx.Response(429, headers={"X-Sentry-Rate-Limit-Reset": reset}), ok())
    client = make_client(handler, clock)
    client.get_json("projects/acme/web/")
    assert clock.sleeps == [12.0]


def test_429_that_persists_raises_rate_limit_error_naming_the_endpoint(clock: FakeClock) -> None:
    client = make_client(lambda r: httpx.Response(429, json={"detail": "Slow down"}, headers={"Retry-After": "2"}), clock)
    with pytest.raises(SentryRateLimitError) as caught:
        client.get_json("organizations/acme/project-keys/")
    error = caught.value
    assert "GET https://sentry.example.com/api/0/organizations/acme/project-keys/" in str(error)
    assert "Slow down" in str(error)
    assert "after 5 attempt(s)" in str(error)
    assert "--parallel" in str(error)
    assert (error.method, error.status) == ("GET", 429)
    assert client.request_count == 5
    assert_no_token(error, client)


def test_429_asking_to_wait_past_the_budget_fails_at_once(clock: FakeClock) -> None:
    client = make_client(lambda r: httpx.Response(429, headers={"Retry-After": "3600"}), clock)
    with pytest.raises(SentryRateLimitError, match="asked to wait 3600s"):
        client.get_json("projects/acme/web/")
    assert client.request_count == 1
    assert clock.sleeps == []


def test_a_429_makes_other_callers_of_the_client_wait_too(clock: FakeClock) -> None:
    seen, handler = scripted(httpx.Response(429, headers={"Retry-After": "5"}), ok({"n": "other"}), ok({"n": "first"}))
    other_results: list[Any] = []
    started: list[bool] = []

    def sleep(seconds: float) -> None:
        if not started:
            started.append(True)
            # Another caller arrives while the first one waits out the 429.
            other_results.append(client.get_json("projects/acme/api/"))
        clock.sleep(seconds)

    client = make_client(handler, clock, sleep=sleep)
    assert client.get_json("projects/acme/web/") == {"n": "first"}
    assert other_results == [{"n": "other"}]
    # The other caller paused for the 5s hold before sending; the first one slept its own 5s.
    assert clock.sleeps == [5.0, 5.0]
    assert [r.url.path for r in seen] == ["/api/0/projects/acme/web/", "/api/0/projects/acme/api/", "/api/0/projects/acme/web/"]


def test_low_remaining_requests_spread_the_rest_over_the_window(clock: FakeClock) -> None:
    reset = str(int(clock.now) + 30)
    headers = {"X-Sentry-Rate-Limit-Limit": "100", "X-Sentry-Rate-Limit-Remaining": "5", "X-Sentry-Rate-Limit-Reset": reset}
    client = make_client(lambda r: ok(**headers), clock)
    client.get_json("projects/acme/web/")
    assert clock.sleeps == []
    client.get_json("projects/acme/web/")
    assert clock.sleeps == [pytest.approx(30 / 5)]


def test_plenty_of_remaining_requests_means_no_pause(clock: FakeClock) -> None:
    reset = str(int(clock.now) + 30)
    headers = {"X-Sentry-Rate-Limit-Limit": "100", "X-Sentry-Rate-Limit-Remaining": "60", "X-Sentry-Rate-Limit-Reset": reset}
    client = make_client(lambda r: ok(**headers), clock)
    for _ in range(3):
        client.get_json("projects/acme/web/")
    assert clock.sleeps == []


def _run_in_threads(client: SentryClient, *, threads: int) -> None:
    workers = [threading.Thread(target=client.get_json, args=("projects/acme/web/",)) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=10)


def counting_handler(extra_headers: dict[str, str] | None = None) -> tuple[dict[str, int], Any]:
    state = {"now": 0, "max": 0}
    lock = threading.Lock()

    def handler(request: httpx.Request) -> httpx.Response:
        with lock:
            state["now"] += 1
            state["max"] = max(state["max"], state["now"])
        time.sleep(0.03)  # hold the slot long enough for the other threads to pile up
        with lock:
            state["now"] -= 1
        return ok(**(extra_headers or {}))

    return state, handler


def test_in_flight_requests_never_exceed_max_concurrency(clock: FakeClock) -> None:
    state, handler = counting_handler()
    client = make_client(handler, clock, max_concurrency=3)
    _run_in_threads(client, threads=12)
    assert client.request_count == 12
    assert state["max"] == 3


def test_sentry_concurrent_limit_lowers_the_number_in_flight(clock: FakeClock) -> None:
    state, handler = counting_handler({"X-Sentry-Rate-Limit-ConcurrentLimit": "2"})
    client = make_client(handler, clock, max_concurrency=8)
    client.get_json("projects/acme/web/")  # learn the server's limit
    assert client.allowed_concurrency == 2
    state["max"] = 0
    _run_in_threads(client, threads=10)
    assert client.request_count == 11
    assert state["max"] == 2


# --- 5xx, time-outs and connection errors -------------------------------------------------------------


@pytest.mark.parametrize(
    "failure",
    [
        httpx.Response(502, text="Bad Gateway"),
        httpx.Response(503, json={"detail": "maintenance"}),
        httpx.ReadTimeout("read timed out"),
        httpx.ConnectError("connection refused"),
        httpx.RemoteProtocolError("server disconnected"),
    ],
    ids=["502", "503", "read-timeout", "connect-error", "disconnect"],
)
def test_transient_failures_are_retried_then_succeed(failure: httpx.Response | Exception, clock: FakeClock) -> None:
    seen, handler = scripted(failure, failure, ok({"slug": "web"}))
    client = make_client(handler, clock)
    assert client.get_json("projects/acme/web/") == {"slug": "web"}
    assert len(seen) == 3
    assert clock.sleeps == [1.0, 2.0]


def test_backoff_doubles_up_to_max_delay(clock: FakeClock) -> None:
    client = make_client(lambda r: httpx.Response(500), clock, max_attempts=6, total_budget=1000)
    with pytest.raises(SentryUnavailableError):
        client.get_json("projects/acme/web/")
    assert clock.sleeps == [1.0, 2.0, 4.0, 8.0, 8.0]


def test_jitter_adds_at_most_its_bound(clock: FakeClock) -> None:
    client = make_client(lambda r: httpx.Response(500), clock, max_attempts=4, jitter=0.5, total_budget=1000)
    with pytest.raises(SentryUnavailableError):
        client.get_json("projects/acme/web/")
    for base, slept in zip([1.0, 2.0, 4.0], clock.sleeps, strict=True):
        assert base <= slept <= base + 0.5


def test_5xx_past_the_budget_raises_unavailable_naming_endpoint_and_status(clock: FakeClock) -> None:
    client = make_client(lambda r: httpx.Response(503), clock, max_attempts=100, total_budget=10)
    with pytest.raises(SentryUnavailableError) as caught:
        client.get_json("projects/acme/web/keys/")
    error = caught.value
    message = str(error)
    assert "GET https://sentry.example.com/api/0/projects/acme/web/keys/" in message
    assert "HTTP 503" in message
    assert "sentry.example.com is reachable" in message
    assert error.status == 503
    # 1 + 2 + 4 = 7s slept; the next 8s wait would pass the 10s budget.
    assert clock.sleeps == [1.0, 2.0, 4.0]
    assert client.request_count == 4
    assert_no_token(error, client)


def test_timeouts_past_the_attempts_raise_unavailable_from_the_httpx_error(clock: FakeClock) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    client = make_client(handler, clock, max_attempts=3)
    with pytest.raises(SentryUnavailableError, match="timed out") as caught:
        client.get_json("projects/acme/web/")
    assert isinstance(caught.value.__cause__, httpx.ReadTimeout)
    assert caught.value.status is None
    assert client.request_count == 3


def test_a_tls_verification_failure_is_not_retried(clock: FakeClock) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        try:
            raise ssl.SSLCertVerificationError("certificate verify failed: self-signed certificate")
        except ssl.SSLError as exc:
            raise httpx.ConnectError("certificate verify failed") from exc

    client = make_client(handler, clock)
    with pytest.raises(SentryUnavailableError, match="TLS verification failed.*SSL_CERT_FILE"):
        client.get_json("projects/acme/web/")
    assert client.request_count == 1


# --- status and body mapping --------------------------------------------------------------------------


def test_401_says_the_token_from_its_source_is_invalid(clock: FakeClock) -> None:
    client = make_client(lambda r: httpx.Response(401, json={"detail": "Invalid token"}), clock)
    with pytest.raises(SentryAuthError) as caught:
        client.get_json("projects/acme/web/")
    message = str(caught.value)
    assert f"token from {TOKEN_SOURCE}" in message
    assert "invalid, expired or revoked" in message
    assert "Invalid token" in message
    assert (caught.value.method, caught.value.status) == ("GET", 401)
    assert caught.value.url == "https://sentry.example.com/api/0/projects/acme/web/"
    assert_no_token(caught.value, client)


def test_403_names_the_scopes_and_the_endpoint(clock: FakeClock) -> None:
    detail = {"detail": "You do not have permission to perform this action."}
    client = make_client(lambda r: httpx.Response(403, json=detail), clock)
    with pytest.raises(SentryPermissionError) as caught:
        client.get_json("organizations/acme/project-keys/")
    message = str(caught.value)
    assert "project:read and org:read" in message
    assert "GET https://sentry.example.com/api/0/organizations/acme/project-keys/" in message
    assert "You do not have permission" in message
    assert caught.value.status == 403
    assert_no_token(caught.value, client)


def test_404_names_what_does_not_exist(clock: FakeClock) -> None:
    client = make_client(lambda r: httpx.Response(404, json={"detail": "The requested resource does not exist"}), clock)
    with pytest.raises(SentryNotFoundError) as caught:
        client.get_json("projects/acme/nope/", what="project 'nope' in organization 'acme'")
    message = str(caught.value)
    assert message.startswith("Sentry has no project 'nope' in organization 'acme'")
    assert "does not exist" in message
    assert caught.value.status == 404


def test_404_without_a_description_still_names_the_endpoint(clock: FakeClock) -> None:
    client = make_client(lambda r: httpx.Response(404), clock)
    with pytest.raises(SentryNotFoundError, match="404 Not Found for GET https://sentry.example.com/api/0/x/"):
        client.get_json("x/")


def test_structured_detail_objects_are_shown_by_their_message(clock: FakeClock) -> None:
    body = {"detail": {"code": "org-suspended", "message": "Organization is suspended"}}
    client = make_client(lambda r: httpx.Response(403, json=body), clock)
    with pytest.raises(SentryPermissionError, match="Organization is suspended"):
        client.get_json("organizations/acme/projects/")


def test_other_client_errors_keep_sentrys_detail(clock: FakeClock) -> None:
    client = make_client(lambda r: httpx.Response(400, json={"detail": "Invalid stat"}), clock)
    with pytest.raises(SentryError, match="HTTP 400 Bad Request: Invalid stat") as caught:
        client.get_json("projects/acme/web/stats/")
    assert type(caught.value) is SentryError
    assert client.request_count == 1


def test_a_redirect_is_reported_not_followed(clock: FakeClock) -> None:
    client = make_client(lambda r: httpx.Response(302, headers={"Location": "https://sso.example.com/login"}), clock)
    with pytest.raises(SentryResponseError, match="redirect .*sso.example.com/login.*set sentryUrl"):
        client.get_json("projects/acme/web/")
    assert client.request_count == 1


def test_a_body_that_is_not_json_is_a_response_error_naming_the_endpoint(clock: FakeClock) -> None:
    page = httpx.Response(200, text="<html>Sign in</html>", headers={"Content-Type": "text/html"})
    client = make_client(lambda r: page, clock)
    with pytest.raises(SentryResponseError) as caught:
        client.get_json("projects/acme/web/")
    message = str(caught.value)
    assert "GET https://sentry.example.com/api/0/projects/acme/web/" in message
    assert "not JSON (text/html)" in message
    assert isinstance(caught.value.__cause__, ValueError)


def test_a_token_echoed_by_the_server_is_scrubbed_from_messages(clock: FakeClock) -> None:
    body = {"detail": f"bad token Bearer {TOKEN}"}
    client = make_client(lambda r: httpx.Response(401, json=body), clock)
    with pytest.raises(SentryAuthError) as caught:
        client.get_json("projects/acme/web/")
    assert "Bearer ***" in str(caught.value)
    assert_no_token(caught.value, client)


def test_a_bad_base_url_is_quoted_without_its_password(clock: FakeClock) -> None:
    with pytest.raises(ConfigError, match=r"ftp://proxyuser:\*\*\*@sentry.io") as caught:
        make_client(lambda r: ok(), clock, base_url="ftp://proxyuser:proxypass@sentry.io")
    assert "proxypass" not in str(caught.value)


def test_credentials_in_the_base_url_do_not_reach_error_messages(clock: FakeClock) -> None:
    client = SentryClient(
        base_url="https://proxyuser:proxypass@sentry.example.com/",
        token=Secret(TOKEN),
        token_source=TOKEN_SOURCE,
        transport=httpx.MockTransport(lambda r: httpx.Response(404)),
    )
    with pytest.raises(SentryNotFoundError) as caught:
        client.get_json("projects/acme/web/")
    for text in (str(caught.value), caught.value.url, repr(client)):
        assert "proxypass" not in text


# --- what real Sentry does: token types, renames, per-endpoint limits, bounded waiting ------------------


def test_a_403_for_an_organization_token_says_which_tokens_work(clock: FakeClock) -> None:
    org_token = "sntrys_eyJvcmciOiJhY21lIn0_org-token-that-must-never-show"
    client = SentryClient(
        base_url="https://sentry.example.com/",
        token=Secret(org_token),
        token_source=TOKEN_SOURCE,
        transport=httpx.MockTransport(lambda r: httpx.Response(403, json={"detail": "You do not have permission"})),
        retry=retry_policy(clock),
    )
    with pytest.raises(SentryPermissionError) as caught:
        client.get_json("organizations/acme/projects/")
    message = str(caught.value)
    assert "organization auth token (sntrys_...)" in message and "org:ci scope only" in message
    assert "internal integration" in message and "org:read" in message and "user auth token" in message
    assert org_token not in message


def test_a_302_with_sentrys_moved_body_is_a_renamed_error_carrying_the_new_slug(clock: FakeClock) -> None:
    body = {"slug": "api-v2", "detail": {"extra": {"url": "/api/0/projects/acme/api-v2/", "slug": "api-v2"}}}
    client = make_client(lambda r: httpx.Response(302, json=body, headers={"Location": "/api/0/projects/acme/api-v2/"}), clock)
    with pytest.raises(SentryProjectRenamedError) as caught:
        client.get_json("projects/acme/api/", what="project 'api' in organization 'acme'")
    assert caught.value.new_slug == "api-v2" and caught.value.status == 302
    assert client.request_count == 1, "a rename is not retried or followed"


def test_a_bare_string_429_body_is_shown_as_sentrys_reason(clock: FakeClock) -> None:
    reason = "You are attempting to use this endpoint too frequently. Limit is 40 requests in 1 seconds"
    client = make_client(lambda r: httpx.Response(429, json=reason, headers={"Retry-After": "1"}), clock, max_attempts=2)
    with pytest.raises(SentryRateLimitError, match="Limit is 40 requests in 1 seconds"):
        client.get_json("projects/acme/web/keys/")


def test_a_429_without_retry_after_waits_for_the_reset_plus_a_little_jitter(clock: FakeClock) -> None:
    reset = str(int(clock.now) + 3)
    _, handler = scripted(httpx.Response(429, json="too frequently", headers={"X-Sentry-Rate-Limit-Reset": reset}), ok())
    client = make_client(handler, clock, jitter=0.5)
    client.get_json("projects/acme/web/")
    (slept,) = clock.sleeps
    assert 3.0 <= slept <= 3.25


def test_pacing_is_kept_per_endpoint_so_a_spent_stats_window_does_not_hold_the_key_lists(clock: FakeClock) -> None:
    reset = str(int(clock.now) + 1)

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/stats/"):
            headers = {"X-Sentry-Rate-Limit-Limit": "5", "X-Sentry-Rate-Limit-Remaining": "0"}
        else:
            headers = {"X-Sentry-Rate-Limit-Limit": "40", "X-Sentry-Rate-Limit-Remaining": "39"}
        return ok([], **headers, **{"X-Sentry-Rate-Limit-Reset": reset})

    client = make_client(handler, clock)
    client.get_json("projects/acme/web/stats/", bucket="projects/{}/{}/stats/")
    client.get_json("projects/acme/web/keys/", bucket="projects/{}/{}/keys/")
    assert clock.sleeps == [], "the key list has its own budget"
    client.get_json("projects/acme/api/stats/", bucket="projects/{}/{}/stats/")
    assert clock.sleeps == [pytest.approx(1.0)], "the stats window was spent: wait for its reset"


def test_a_spent_window_holds_parallel_callers_until_it_resets_instead_of_running_into_429(clock: FakeClock) -> None:
    answered: list[float] = []
    lock = threading.Lock()

    def handler(request: httpx.Request) -> httpx.Response:
        now = clock.time()
        window_end = int(now) + 1
        with lock:
            answered.append(now)
            used = sum(1 for t in answered if int(t) == int(now))
        headers = {
            "X-Sentry-Rate-Limit-Limit": "5",
            "X-Sentry-Rate-Limit-Remaining": str(max(0, 5 - used)),
            "X-Sentry-Rate-Limit-Reset": str(window_end),
        }
        return ok([], **headers) if used <= 5 else httpx.Response(429, json="too frequently", headers=headers)

    client = make_client(handler, clock, max_concurrency=4)
    client.get_json("projects/acme/web/stats/", bucket="stats")  # learn the window
    workers = [
        threading.Thread(target=client.get_json, args=(f"projects/acme/p{n}/stats/",), kwargs={"bucket": "stats"})
        for n in range(11)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=10)
    per_window: dict[int, int] = {}
    for moment in answered:
        per_window[int(moment)] = per_window.get(int(moment), 0) + 1
    assert client.request_count == 12, "no request was refused and retried"
    assert max(per_window.values()) <= 5


def test_a_concurrent_limit_of_none_is_no_limit(clock: FakeClock) -> None:
    headers = {"X-Sentry-Rate-Limit-ConcurrentLimit": "None", "X-Sentry-Rate-Limit-ConcurrentRemaining": "None"}
    client = make_client(lambda r: ok(**headers), clock, max_concurrency=6)
    client.get_json("projects/acme/web/keys/")
    assert client.allowed_concurrency == 6


def test_without_rate_limit_headers_a_self_hosted_sentry_is_never_paced(clock: FakeClock) -> None:
    client = make_client(lambda r: ok([]), clock)
    for _ in range(50):
        client.get_json("projects/acme/web/stats/", bucket="stats")
    assert clock.sleeps == []


def test_the_whole_runs_waiting_is_bounded(clock: FakeClock) -> None:
    client = make_client(
        lambda r: httpx.Response(429, json="too frequently", headers={"Retry-After": "20"}),
        clock,
        max_attempts=10,
        total_budget=100.0,
        run_budget=50.0,
    )
    with pytest.raises(SentryRateLimitError, match="its limit is 50s"):
        client.get_json("projects/acme/web/")
    with pytest.raises(SentryRateLimitError):
        client.get_json("projects/acme/api/")
    assert sum(clock.sleeps) <= 50.0
    assert client.waited <= 50.0


def test_waits_of_a_second_or_more_are_announced_with_reason_and_never_the_token(clock: FakeClock) -> None:
    heard: list[str] = []
    _, handler = scripted(
        httpx.Response(429, json="too frequently", headers={"Retry-After": "3"}),
        httpx.Response(503, headers={"Retry-After": "0.2"}),
        ok(),
    )
    client = SentryClient(
        base_url=f"https://user:{TOKEN}@sentry.example.com/",
        token=Secret(TOKEN),
        token_source=TOKEN_SOURCE,
        transport=httpx.MockTransport(handler),
        retry=retry_policy(clock),
        announce=heard.append,
    )
    client.get_json("projects/acme/web/")
    assert heard == [
        "waiting 3.0s for Sentry before GET https://sentry.example.com/api/0/projects/acme/web/: "
        "HTTP 429 Too Many Requests: too frequently"
    ]
    assert all(TOKEN not in line for line in heard)
