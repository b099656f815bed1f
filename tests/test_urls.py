"""The rules for a base URL: what a client accepts, and what config additionally refuses."""

from __future__ import annotations

import pytest

from sentry_dsn_sync._urls import base_url_problem, http_url_problem


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("https://sentry.io/", None),
        ("http://127.0.0.1:9000/prefix/", None),
        ("https://proxy:pw@sentry.example.com/", None),
        ("ftp://sentry.io", "is not an http(s) URL"),
        ("sentry.example.com", "is not an http(s) URL"),
        ("localhost:9000", "is not an http(s) URL"),
        ("https://host:port/", "is not a URL"),
        ("http://[::1", "is not a URL"),
    ],
)
def test_a_client_takes_any_http_url_with_a_host(url: str, problem: str | None) -> None:
    assert http_url_problem(url) == problem


@pytest.mark.parametrize(
    ("url", "start"),
    [
        ("https://sentry.io/", None),
        ("https://proxy:pw@sentry.example.com/", "carries credentials"),
        ("https://user@sentry.example.com/", "carries credentials"),
        ("https://sentry.example.com/?org=acme", "has a query or fragment"),
        ("https://sentry.example.com/#top", "has a query or fragment"),
        ("ftp://sentry.io", "is not an http(s) URL"),
    ],
)
def test_config_also_refuses_credentials_and_queries(url: str, start: str | None) -> None:
    problem = base_url_problem(url)
    assert problem == start if start is None else problem is not None and problem.startswith(start)
