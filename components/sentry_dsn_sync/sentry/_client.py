"""The one place every Sentry HTTP call goes through.

Auth, time-outs, retries, rate limits, pagination and error mapping live here
and nowhere else, so that every endpoint wrapper in :mod:`sentry_dsn_sync.sentry._api`
behaves the same against sentry.io, regional hosts and self-hosted instances.
"""

from __future__ import annotations

import email.utils
import itertools
import math
import random
import re
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, NoReturn
from urllib.parse import quote

import httpx

from sentry_dsn_sync._redaction import redacted_url, scrubbed
from sentry_dsn_sync._urls import http_url_problem
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

__all__ = [
    "LinkEntry",
    "ListPage",
    "PageGuard",
    "RetryPolicy",
    "SentryClient",
    "api_path",
    "api_root",
    "parse_link_header",
]

USER_AGENT = "sentry-dsn-sync/0.1.0"
REQUIRED_SCOPES = "project:read and org:read"
# Organization auth tokens carry this prefix and only the org:ci scope (sentry-cli's usual token).
ORGANIZATION_TOKEN_PREFIX = "sntrys_"
WORKING_TOKENS = (
    "an internal integration's token with Organization Read and Project Read (org:read, project:read; "
    "recommended: it sees every team), or a user auth token with org:read and project:read"
)
# No Sentry organization holds this many projects or keys: a listing still offering pages past it
# is a server or proxy fault, not data.
MAX_LISTED_ITEMS = 100_000
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)

# Below this share of the window's request budget left, requests are spread
# over the time until the window resets instead of running into a 429.
_LOW_REMAINING_FRACTION = 0.1
# Spread over parallel callers waiting out one window, so they do not all arrive at its first instant.
_RESET_JITTER = 0.25
# A wait at least this long is announced (issue: a pause must never look like a hang).
ANNOUNCE_WAITS_FROM = 1.0
# The bucket of a request whose caller names none; the API wrappers name Sentry's own per endpoint.
DEFAULT_BUCKET = "default"
_MAX_DETAIL = 300

Params = Mapping[str, str | int | float | bool | None]


@dataclass(frozen=True)
class RetryPolicy:
    """How long to keep trying before telling the user Sentry is unavailable.

    `sleep` and `clock` are seams: tests pass a fake clock whose `sleep`
    advances time, so backoff is exercised without waiting (stamina's test mode).
    `clock` is wall-clock time because Sentry's rate-limit reset is epoch seconds.
    """

    max_attempts: int = 6
    base_delay: float = 0.5
    max_delay: float = 30.0
    total_budget: float = 120.0
    # All the waiting of one client (one provider process: one preview or update) together.
    run_budget: float = 600.0
    jitter: float = 0.5
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.time

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("RetryPolicy.max_attempts must be at least 1")
        if min(self.base_delay, self.max_delay, self.total_budget, self.run_budget, self.jitter) < 0:
            raise ValueError("RetryPolicy delays, budget and jitter cannot be negative")

    def backoff(self, attempt: int) -> float:
        """Exponential from `base_delay`, plus up to `jitter` seconds so parallel callers spread out."""
        delay = float(self.base_delay * (2 ** (attempt - 1)))
        if self.jitter > 0:
            delay += random.uniform(0, self.jitter)
        return min(self.max_delay, delay)


@dataclass(frozen=True)
class LinkEntry:
    """One entry of Sentry's `Link` header."""

    url: str
    rel: str
    results: bool
    cursor: str | None


_LINK_ENTRY = re.compile(r"<(?P<url>[^>]*)>(?P<params>[^<]*)")
_LINK_PARAM = re.compile(r';\s*(?P<name>[A-Za-z_][\w-]*)\s*=\s*(?:"(?P<quoted>[^"]*)"|(?P<bare>[^;,\s]*))')


def parse_link_header(value: str) -> list[LinkEntry]:
    """Parse `<url>; rel="next"; results="true"; cursor="..."` entries, in order."""
    entries: list[LinkEntry] = []
    for match in _LINK_ENTRY.finditer(value):
        params = {
            m["name"].lower(): m["quoted"] if m["quoted"] is not None else m["bare"]
            for m in _LINK_PARAM.finditer(match["params"])
        }
        entries.append(
            LinkEntry(
                url=match["url"].strip(),
                rel=params.get("rel", ""),
                results=params.get("results", "").lower() == "true",
                cursor=params.get("cursor") or None,
            )
        )
    return entries


def api_path(template: str, *values: str) -> str:
    """Fill each `{}` of `template` with a fully percent-quoted value.

    Slugs come from user config; quoting every one (and refusing dot segments,
    which URL normalisation would resolve) keeps a slug from ever changing
    which endpoint is called.
    """
    quoted: list[str] = []
    for value in values:
        text = str(value)
        if text in ("", ".", ".."):
            raise ValueError(f"{text!r} cannot be used as a Sentry path segment")
        quoted.append(quote(text, safe=""))
    return template.format(*quoted)


def api_root(base_url: str) -> httpx.URL:
    """`<base>/api/0/` for sentry.io, regional hosts and self-hosted path prefixes alike."""
    problem = http_url_problem(base_url.strip())
    if problem is not None:
        raise ConfigError(f"sentryUrl: {redacted_url(base_url)!r} {problem}; use e.g. https://sentry.io/")
    try:
        url = httpx.URL(base_url.strip())
    except httpx.InvalidURL as exc:
        raise ConfigError(f"sentryUrl: {redacted_url(base_url)!r} is not a URL ({exc})") from exc
    path = url.path.rstrip("/")
    # Accept a base that already names the API root instead of doubling it.
    if not path.endswith("/api/0"):
        path += "/api/0"
    return url.copy_with(path=path + "/", query=None, fragment=None)


@dataclass
class _Bucket:
    """What the last responses of one Sentry rate-limit bucket (endpoint and method) said."""

    allowed: int
    in_flight: int = 0
    answered: bool = False  # until the first answer, its budget is unknown: one request at a time
    limit: int | None = None
    remaining: int | None = None
    reset: float | None = None
    hold_until: float = 0.0


class _RateGovernor:
    """Paces requests per Sentry rate-limit bucket and keeps in-flight requests under the caps.

    Sentry counts requests per endpoint and method, so each bucket keeps its own
    window (`Limit`/`Remaining`/`Reset`), its own concurrent limit and its own
    hold after a 429; `max_concurrency` caps the requests in flight over all
    buckets. Shared by every thread using one client, because the limits are
    per token, not per thread.
    """

    def __init__(self, *, max_concurrency: int, policy: RetryPolicy) -> None:
        self._ceiling = max_concurrency
        self._policy = policy
        self._cond = threading.Condition()
        self._in_flight = 0
        self._buckets: dict[str, _Bucket] = {}

    def allowed_concurrency(self, bucket: str) -> int:
        with self._cond:
            return self._bucket(bucket).allowed

    @contextmanager
    def slot(self, bucket: str, wait: Callable[[float, str], None]) -> Iterator[None]:
        """Admit one request to `bucket`, calling `wait(seconds, reason)` while its window is spent or held."""
        paced = False
        while True:
            with self._cond:
                state = self._bucket(bucket)
                pause, reason, blocking = self._pause(state)
                # Pacing spaces requests out once; a spent or held window is waited out in full.
                if pause <= 0 or (paced and not blocking):
                    while (
                        self._in_flight >= self._ceiling
                        or state.in_flight >= (state.allowed if state.answered else 1)
                    ):
                        self._cond.wait()
                    self._in_flight += 1
                    state.in_flight += 1
                    if state.remaining is not None:
                        # Count our own spend so parallel callers see the window shrink before the next response.
                        state.remaining = max(0, state.remaining - 1)
                    break
            wait(pause, reason)
            paced = True
        try:
            yield
        finally:
            with self._cond:
                self._in_flight -= 1
                state.in_flight -= 1
                self._cond.notify_all()

    def observe(self, bucket: str, headers: httpx.Headers) -> None:
        # The concurrent headers may be the literal "None": no concurrent limit on that endpoint.
        concurrent = _int_header(headers, "X-Sentry-Rate-Limit-ConcurrentLimit")
        limit = _int_header(headers, "X-Sentry-Rate-Limit-Limit")
        remaining = _int_header(headers, "X-Sentry-Rate-Limit-Remaining")
        reset = _float_header(headers, "X-Sentry-Rate-Limit-Reset")
        with self._cond:
            state = self._bucket(bucket)
            if not state.answered:
                state.answered = True
                self._cond.notify_all()
            if concurrent is not None and concurrent > 0:
                state.allowed = max(1, min(self._ceiling, concurrent))
                self._cond.notify_all()
            if limit is not None and remaining is not None:
                if reset is not None and reset == state.reset and state.remaining is not None:
                    # Within one window, requests still in flight have spent more than this answer counts.
                    remaining = min(remaining, state.remaining)
                state.limit, state.remaining, state.reset = limit, remaining, reset

    def hold(self, bucket: str, until: float) -> None:
        """After a 429, every thread waits on that bucket, not only the one that was told to."""
        with self._cond:
            state = self._bucket(bucket)
            state.hold_until = max(state.hold_until, until)

    def _bucket(self, name: str) -> _Bucket:
        state = self._buckets.get(name)
        if state is None:
            state = self._buckets[name] = _Bucket(allowed=self._ceiling)
        return state

    def _pause(self, state: _Bucket) -> tuple[float, str, bool]:
        """How long `state` must wait before its next request, why, and whether the wait is a gate
        (the window is spent or held) rather than pacing; called with the lock held."""
        now = self._policy.clock()
        if state.hold_until > now:
            return state.hold_until - now, "Sentry answered 429 Too Many Requests", True
        if not state.limit or state.remaining is None or state.reset is None:
            return 0.0, "", False
        if state.reset <= now:
            # Fixed windows: a new one starts with the whole budget. Until an answer says when it
            # ends, assume Sentry's usual one second, so a burst cannot spend it twice.
            state.remaining, state.reset = state.limit, float(math.floor(now) + 1)
        window = state.reset - now
        if state.remaining <= 0:
            spread = random.uniform(0, min(self._policy.jitter, _RESET_JITTER)) if self._policy.jitter else 0.0
            reason = f"the rate-limit window of {state.limit} requests is spent until it resets"
            return window + spread, reason, True
        if state.remaining <= state.limit * _LOW_REMAINING_FRACTION:
            pace = min(window / state.remaining, self._policy.max_delay)
            return pace, f"{state.remaining} of {state.limit} requests left in this rate-limit window", False
        return 0.0, "", False


def _int_header(headers: httpx.Headers, name: str) -> int | None:
    value = _float_header(headers, name)
    return None if value is None else int(value)


def _float_header(headers: httpx.Headers, name: str) -> float | None:
    raw = headers.get(name)
    if raw is None:
        return None
    try:
        return float(raw.strip())
    except ValueError:
        return None


@dataclass(frozen=True)
class _Failure:
    """A try that failed in a way worth retrying, and how long to wait before the next one."""

    description: str
    delay: float
    rate_limited: bool = False
    status: int | None = None
    cause: Exception | None = None


@dataclass(frozen=True)
class ListPage:
    """One page of a list endpoint: its items, and the cursors of the pages around it that hold more."""

    items: list[Any]
    next_cursor: str | None
    previous_cursor: str | None
    request: httpx.Request
    response: httpx.Response

    @property
    def continuation(self) -> str | None:
        """The cursor to read on from; None where the list ends, as an empty page does whatever its link says."""
        return self.next_cursor if self.items else None


class PageGuard:
    """Stops a listing that cannot end: a cursor offered twice, or more pages than an organization fills."""

    def __init__(self, client: SentryClient, params: Params | None) -> None:
        query = _query_params(params)
        # Without per_page, Sentry's smallest default page (10, the key lists') bounds the count.
        self.per_page = max(1, int(query["per_page"])) if query.get("per_page", "").isdigit() else 10
        self.max_pages = math.ceil(MAX_LISTED_ITEMS / self.per_page)
        self._client = client
        self._pages = 0
        self._seen: set[str] = set()

    def admit(self, page: ListPage, cursor: str) -> None:
        """Count `page` and the `cursor` it offers next, or raise SentryResponseError."""
        self._pages += 1
        if cursor in self._seen:
            self._client.bad_page(page, f"a page cursor {cursor!r} it already returned (pagination loop)")
        if self._pages >= self.max_pages:
            self._client.bad_page(
                page,
                f'more pages after {self._pages} pages of {self.per_page} (results="true"), more than a Sentry '
                "organization holds; this is a fault of the server or a proxy in front of it, so the "
                "listing was stopped. Check that sentryUrl points at Sentry itself",
            )
        self._seen.add(cursor)


class SentryClient:
    """Authenticated, retrying, rate-limit-aware access to one Sentry instance's API.

    One `httpx.Client` per instance, safe to share between the threads the
    Pulumi engine runs dynamic providers on.
    """

    def __init__(
        self,
        *,
        base_url: str,
        token: Secret,
        token_source: str,
        transport: httpx.BaseTransport | None = None,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        max_concurrency: int = 8,
        announce: Callable[[str], None] | None = None,
    ) -> None:
        """`announce` is told of every wait of a second or more (a rate limit, a retry), with
        the reason, so a long pause never looks like a hang; the provider sends it to Pulumi's log."""
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        self.api_root = api_root(base_url)
        self._token = token
        self._token_source = token_source
        self._retry = retry or RetryPolicy()
        self._announce = announce
        self._governor = _RateGovernor(max_concurrency=max_concurrency, policy=self._retry)
        self._count_lock = threading.Lock()
        self.request_count = 0
        self.waited = 0.0  # seconds slept for Sentry so far, against RetryPolicy.run_budget
        self._http = httpx.Client(
            base_url=self.api_root,
            headers={
                "Authorization": f"Bearer {token.reveal()}",
                "Accept": "application/json",
                "User-Agent": USER_AGENT,
            },
            timeout=timeout,
            transport=transport,
            limits=httpx.Limits(max_connections=max_concurrency, max_keepalive_connections=max_concurrency),
            # A redirect usually means a wrong sentryUrl; say so instead of sending the token on.
            follow_redirects=False,
        )

    def __repr__(self) -> str:
        return f"SentryClient(api_root={_display_url(self.api_root)!r}, token_source={self._token_source!r})"

    def __enter__(self) -> SentryClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    @property
    def allowed_concurrency(self) -> int:
        """How many requests may be in flight now (our cap, lowered by Sentry's concurrent limit)."""
        return self._governor.allowed_concurrency(DEFAULT_BUCKET)

    def endpoint(self, path: str, *, method: str = "GET") -> str:
        """`GET <full url>` of an API path, the way error messages name endpoints."""
        return f"{method} {_display_url(self._http.build_request(method, path).url)}"

    def get_json(
        self,
        path: str,
        *,
        params: Params | None = None,
        what: str | None = None,
        scope: str | None = None,
        bucket: str = DEFAULT_BUCKET,
    ) -> Any:
        """GET `path` (relative to the API root) and return its decoded JSON body.

        `what` names the object the path points at, e.g. "project 'web' in
        organization 'acme'", so that a 404 says which slug does not exist;
        `scope` is the token scope the endpoint needs, so that a 403 names it;
        `bucket` is the endpoint's rate-limit bucket (its path template), which
        Sentry counts requests in.
        """
        request = self._http.build_request("GET", path, params=_query_params(params))
        return self._decode(self._request(request, what, scope, bucket))

    def paginate(
        self,
        path: str,
        *,
        params: Params | None = None,
        what: str | None = None,
        scope: str | None = None,
        bucket: str = DEFAULT_BUCKET,
    ) -> Iterator[Any]:
        """Yield every item of every page of a list endpoint, following `Link: rel="next"`.

        Only the next link's cursor is used: the next page is requested as the
        same path and parameters on `sentryUrl`, because Sentry builds link URLs
        from its own configured URL prefix, which may name another scheme or
        host (an internal name, http behind a TLS proxy). The listing ends on
        `results="false"`, on an empty page, and, as a fault, on a cursor seen
        before or more pages than an organization can fill.
        """
        guard = PageGuard(self, params)
        cursor: str | None = None
        while True:
            page = self.page(path, params=params, cursor=cursor, what=what, scope=scope, bucket=bucket)
            yield from page.items
            cursor = page.continuation
            if cursor is None:
                return
            guard.admit(page, cursor)

    def page(
        self,
        path: str,
        *,
        params: Params | None = None,
        cursor: str | None = None,
        what: str | None = None,
        scope: str | None = None,
        bucket: str = DEFAULT_BUCKET,
    ) -> ListPage:
        """One page of a list endpoint at `cursor` (None: the first), with the cursors its links offer.

        A next link that says there is more must carry a cursor; a previous link
        without one only means the page cannot be walked back from.
        """
        query = dict(_query_params(params))
        if cursor is not None:
            query["cursor"] = cursor
        request = self._http.build_request("GET", path, params=query)
        response = self._request(request, what, scope, bucket)
        items = self._decode(response)
        if not isinstance(items, list):
            self._bad_response(request, response, f"{_shape(items)} where a JSON list was expected")
        links = parse_link_header(response.headers.get("Link", ""))
        return ListPage(
            items=items,
            next_cursor=self._link_cursor(request, response, links, "next"),
            previous_cursor=self._link_cursor(request, response, links, "previous", required=False),
            request=request,
            response=response,
        )

    def bad_page(self, page: ListPage, problem: str) -> NoReturn:
        """Raise SentryResponseError for a page that cannot be right, naming its request."""
        self._bad_response(page.request, page.response, problem)

    def _link_cursor(
        self,
        request: httpx.Request,
        response: httpx.Response,
        links: list[LinkEntry],
        rel: str,
        *,
        required: bool = True,
    ) -> str | None:
        entry = next((entry for entry in links if entry.rel == rel), None)
        # Sentry sends both links on every page; only results="true" means there is more that way.
        if entry is None or not entry.results:
            return None
        cursor = entry.cursor
        if not cursor and entry.url:
            try:
                cursor = httpx.URL(entry.url).params.get("cursor")
            except httpx.InvalidURL:
                cursor = None
        if not cursor and required:
            self._bad_response(request, response, f'a {rel}-page link with results="true" but no cursor')
        return cursor or None

    def _request(
        self, request: httpx.Request, what: str | None, scope: str | None, bucket: str
    ) -> httpx.Response:
        response = self._send_with_retries(request, bucket)
        if not response.is_success:
            self._raise_for_status(request, response, what, scope)
        return response

    def _send_with_retries(self, request: httpx.Request, bucket: str) -> httpx.Response:
        policy = self._retry
        start = policy.clock()
        for attempt in itertools.count(1):
            outcome = self._attempt(request, attempt, bucket)
            if isinstance(outcome, httpx.Response):
                return outcome
            elapsed = policy.clock() - start
            over_run = self.waited + outcome.delay > policy.run_budget
            if attempt >= policy.max_attempts or elapsed + outcome.delay > policy.total_budget or over_run:
                self._give_up(request, outcome, attempts=attempt, elapsed=elapsed, over_run=over_run)
            if outcome.rate_limited:
                self._governor.hold(bucket, policy.clock() + outcome.delay)
            self._wait(request, outcome.delay, outcome.description)
        raise AssertionError("unreachable")

    def _wait(self, request: httpx.Request, seconds: float, reason: str) -> None:
        """Sleep for Sentry, within the run's budget, and say so when it is long enough to notice."""
        if seconds <= 0:
            return
        with self._count_lock:
            if self.waited + seconds > self._retry.run_budget:
                over = True
            else:
                over, self.waited = False, self.waited + seconds
        endpoint = f"{request.method} {_display_url(request.url)}"
        if over:
            message = (
                f"Sentry would make sentry-dsn-sync wait {seconds:.0f}s more before {endpoint} ({reason}), past "
                f"the {self._retry.run_budget:.0f}s it waits for Sentry in one run; run again later, or with "
                "fewer operations at once (`pulumi up --parallel 4`)"
            )
            raise self._error(SentryRateLimitError, message, request)
        if self._announce is not None and seconds >= ANNOUNCE_WAITS_FROM:
            self._announce(self._scrub(f"waiting {seconds:.1f}s for Sentry before {endpoint}: {reason}"))
        self._retry.sleep(seconds)

    def _attempt(self, request: httpx.Request, attempt: int, bucket: str) -> httpx.Response | _Failure:
        """One try: the response to hand on, or a failure worth retrying after its delay."""
        policy = self._retry
        try:
            response = self._send_once(request, bucket)
        except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as exc:
            if _is_tls_failure(exc):
                message = (
                    f"TLS verification failed for {request.method} {_display_url(request.url)} ({exc}); "
                    "check sentryUrl, or point SSL_CERT_FILE at the CA bundle that signed the server"
                )
                raise self._error(SentryUnavailableError, message, request) from exc
            return _Failure(_describe_transport_error(exc, request), policy.backoff(attempt), cause=exc)
        except httpx.HTTPError as exc:
            message = f"{request.method} {_display_url(request.url)} could not be sent ({type(exc).__name__}: {exc})"
            raise self._error(SentryUnavailableError, message, request) from exc
        status = response.status_code
        if status == 429:
            # Sentry's own 429 has no Retry-After, only the window's reset; jitter keeps the
            # callers held by one window from all coming back at its first instant.
            reset_wait = _retry_after(response, policy.clock(), until_reset=True)
            if reset_wait is not None and "Retry-After" not in response.headers and policy.jitter:
                reset_wait += random.uniform(0, min(policy.jitter, _RESET_JITTER))
            delay = reset_wait or policy.backoff(attempt)
            failure = f"HTTP 429 Too Many Requests{_detail_suffix(response)}"
            return _Failure(failure, delay, rate_limited=True, status=status)
        # 501 means the server will never support the call; retrying cannot help.
        if status >= 500 and status != 501:
            # The rate-limit window says nothing about when a failing server recovers: only Retry-After does.
            delay = min(
                _retry_after(response, policy.clock(), until_reset=False) or policy.backoff(attempt), policy.max_delay
            )
            return _Failure(f"HTTP {status} {response.reason_phrase}", delay, status=status)
        return response

    def _send_once(self, request: httpx.Request, bucket: str) -> httpx.Response:
        with self._governor.slot(bucket, lambda seconds, reason: self._wait(request, seconds, reason)):
            with self._count_lock:
                self.request_count += 1
            response = self._http.send(request)
        self._governor.observe(bucket, response.headers)
        return response

    def _give_up(
        self, request: httpx.Request, failure: _Failure, *, attempts: int, elapsed: float, over_run: bool = False
    ) -> NoReturn:
        endpoint = f"{request.method} {_display_url(request.url)}"
        tried = f"after {attempts} attempt(s) in {elapsed:.0f}s"
        if over_run:
            tried += f" (the run has waited {self.waited:.0f}s for Sentry, its limit is {self._retry.run_budget:.0f}s)"
        if failure.rate_limited:
            message = (
                f"Sentry kept rate-limiting {endpoint} ({failure.description}) {tried}"
                f"{_wait_note(failure.delay)}; the token's request budget is spent. Wait for the limit to reset "
                "and run again, or run fewer operations at once (`pulumi up --parallel 4`)"
            )
            error: SentryError = self._error(SentryRateLimitError, message, request, status=failure.status)
        else:
            message = (
                f"Sentry did not answer {endpoint} ({failure.description}) {tried}; check that "
                f"{self.api_root.host} is reachable and healthy (for sentry.io: https://status.sentry.io), "
                "then run again"
            )
            error = self._error(SentryUnavailableError, message, request, status=failure.status)
        if failure.cause is not None:
            raise error from failure.cause
        raise error

    def _raise_for_status(
        self, request: httpx.Request, response: httpx.Response, what: str | None, scope: str | None = None
    ) -> NoReturn:
        endpoint = f"{request.method} {_display_url(request.url)}"
        status = response.status_code
        if status == 302 and (new_slug := _moved_to(response)) is not None:
            message = f"Sentry answered {endpoint} with 302: {what or 'the project'} was renamed to '{new_slug}'"
            url = _display_url(request.url)
            raise SentryProjectRenamedError(
                self._scrub(message), new_slug=new_slug, method=request.method, url=url, status=status
            )
        if status in _REFUSALS:
            kind, explain = _REFUSALS[status]
            refusal = _Refusal(
                endpoint=endpoint,
                detail=_detail_suffix(response),
                token_source=self._token_source,
                what=what,
                scope=scope,
                organization_token=self._token.reveal().startswith(ORGANIZATION_TOKEN_PREFIX),
            )
            raise self._error(kind, explain(refusal), request, status=status)
        if response.is_redirect:
            location = response.headers.get("Location", "")
            message = (
                f"Sentry answered {endpoint} with a redirect (HTTP {status}) to {location!r}; set sentryUrl to the "
                "address the Sentry API is served from, e.g. https://sentry.example.com/"
            )
            raise self._error(SentryResponseError, message, request, status=status)
        message = f"Sentry refused {endpoint} with HTTP {status} {response.reason_phrase}{_detail_suffix(response)}"
        raise self._error(SentryError, message, request, status=status)

    def _decode(self, response: httpx.Response) -> Any:
        try:
            return response.json()
        except ValueError as exc:
            content_type = response.headers.get("Content-Type", "no content type")
            self._bad_response(
                response.request,
                response,
                f"a body that is not JSON ({content_type}); is sentryUrl the Sentry API, not a login page or proxy?",
                cause=exc,
            )

    def _bad_response(
        self, request: httpx.Request, response: httpx.Response, problem: str, *, cause: Exception | None = None
    ) -> NoReturn:
        message = f"Sentry answered {request.method} {_display_url(request.url)} with {problem}"
        error = self._error(SentryResponseError, message, request, status=response.status_code)
        if cause is not None:
            raise error from cause
        raise error

    def _error(
        self, kind: type[SentryError], message: str, request: httpx.Request, *, status: int | None = None
    ) -> SentryError:
        return kind(self._scrub(message), method=request.method, url=_display_url(request.url), status=status)

    def _scrub(self, message: str) -> str:
        # Server text is echoed into messages; make sure it can never carry the token back out.
        return scrubbed(message, (self._token.reveal(),))


def _query_params(params: Params | None) -> dict[str, str]:
    """Drop unset parameters and spell booleans the way Sentry's query parser expects."""
    cleaned: dict[str, str] = {}
    for name, value in (params or {}).items():
        if value is None:
            continue
        cleaned[name] = ("true" if value else "false") if isinstance(value, bool) else str(value)
    return cleaned


def _display_url(url: httpx.URL) -> str:
    """The URL without any user:password a base URL may carry; the token is only ever in a header."""
    return str(url.copy_with(userinfo=b"")) if url.userinfo else str(url)


@dataclass(frozen=True)
class _Refusal:
    """What a message about a refused call may say: the call, Sentry's reason, and whose token it was."""

    endpoint: str
    detail: str
    token_source: str
    what: str | None
    scope: str | None
    organization_token: bool


def _unauthorized(refusal: _Refusal) -> str:
    return (
        f"Sentry rejected the token from {refusal.token_source} on {refusal.endpoint} (HTTP 401{refusal.detail}): "
        f"it is invalid, expired or revoked. Create a new auth token with the scopes {REQUIRED_SCOPES} and set "
        "it there"
    )


def _forbidden(refusal: _Refusal) -> str:
    if refusal.organization_token:
        return (
            f"the token from {refusal.token_source} is an organization auth token ({ORGANIZATION_TOKEN_PREFIX}...), "
            f"which Sentry issues with the org:ci scope only, so it may not call {refusal.endpoint} "
            f"(HTTP 403{refusal.detail}). Use {WORKING_TOKENS}"
        )
    needs = (
        f"this endpoint needs the scope {refusal.scope} (sentry-dsn-sync needs {REQUIRED_SCOPES})"
        if refusal.scope
        else f"it needs the scopes {REQUIRED_SCOPES}"
    )
    return (
        f"the token from {refusal.token_source} may not call {refusal.endpoint} (HTTP 403{refusal.detail}); "
        f"{needs}, and its user must have access to the project's team"
    )


def _not_found(refusal: _Refusal) -> str:
    if not refusal.what:
        return f"Sentry answered 404 Not Found for {refusal.endpoint}{refusal.detail}"
    return (
        f"Sentry has no {refusal.what} ({refusal.endpoint} answered 404{refusal.detail}); check the slug in the "
        f"stack config, and that the token from {refusal.token_source} can see it"
    )


# Status -> the error raised and the message saying what to do, as hvac's `VaultError.from_status` maps them.
_REFUSALS: dict[int, tuple[type[SentryError], Callable[[_Refusal], str]]] = {
    401: (SentryAuthError, _unauthorized),
    403: (SentryPermissionError, _forbidden),
    404: (SentryNotFoundError, _not_found),
}


def _moved_to(response: httpx.Response) -> str | None:
    """The new slug of Sentry's ProjectMoved answer: `{"slug", "detail": {"extra": {"url", "slug"}}}`."""
    try:
        body = response.json()
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    detail = body.get("detail")
    extra = detail.get("extra") if isinstance(detail, dict) else None
    slug = body.get("slug") or (extra.get("slug") if isinstance(extra, dict) else None)
    return slug if isinstance(slug, str) and slug else None


def _detail_suffix(response: httpx.Response) -> str:
    """': <Sentry's detail text>' when the body carries one, so users see Sentry's own reason.

    Sentry's rate-limit middleware answers a bare JSON string instead of `{"detail": ...}`.
    """
    try:
        body = response.json()
    except ValueError:
        return ""
    detail = body if isinstance(body, str) else body.get("detail") if isinstance(body, dict) else None
    if isinstance(detail, dict):
        detail = detail.get("message") or detail.get("code")
    if not isinstance(detail, str) or not detail.strip():
        return ""
    text = " ".join(detail.split())
    return ": " + (text[:_MAX_DETAIL] + "..." if len(text) > _MAX_DETAIL else text)


def _retry_after(response: httpx.Response, now: float, *, until_reset: bool) -> float | None:
    """Seconds to wait from `Retry-After` (seconds or HTTP date), else (`until_reset`) until the window resets."""
    raw = response.headers.get("Retry-After")
    if raw:
        try:
            return max(0.0, float(raw))
        except ValueError:
            try:
                return max(0.0, email.utils.parsedate_to_datetime(raw).timestamp() - now)
            except (TypeError, ValueError):
                pass
    if not until_reset:
        return None
    reset = _float_header(response.headers, "X-Sentry-Rate-Limit-Reset")
    if reset is not None and reset > now:
        return reset - now
    return None


def _wait_note(next_delay: float) -> str:
    return f" (Sentry asked to wait {next_delay:.0f}s more)" if next_delay >= 1 else ""


def _describe_transport_error(exc: httpx.HTTPError, request: httpx.Request) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return f"timed out: {type(exc).__name__}"
    if isinstance(exc, httpx.ConnectError):
        return f"could not connect to {request.url.host}: {exc}"
    return f"{type(exc).__name__}: {exc}"


def _is_tls_failure(exc: BaseException) -> bool:
    """A certificate problem will not fix itself; fail at once instead of burning the retry budget."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, ssl.SSLCertVerificationError):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def _shape(value: Any) -> str:
    """A short description of a wrong-shaped body that cannot leak its content."""
    if isinstance(value, dict):
        keys = ", ".join(sorted(map(str, value))[:5])
        return f"a JSON object with keys {keys}" if keys else "an empty JSON object"
    return f"a JSON {type(value).__name__}"
