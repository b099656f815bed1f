"""The Vault client says why it waits: a wait over a second at INFO (shown by `pulumi up`), shorter ones at DEBUG."""

from __future__ import annotations

import logging

import pytest
from urllib3 import HTTPResponse
from urllib3.util.retry import RequestHistory

from sentry_dsn_sync.vault import client


def retry_after(seconds: str) -> HTTPResponse:
    return HTTPResponse(status=429, headers={"Retry-After": seconds})


@pytest.fixture
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    slept: list[float] = []
    monkeypatch.setattr("urllib3.util.retry.time.sleep", slept.append)
    return slept


def test_a_retry_after_wait_is_announced_with_path_status_and_length(
    caplog: pytest.LogCaptureFixture, no_sleep: list[float]
) -> None:
    retry = client._Retry(total=3, respect_retry_after_header=True)
    retry = retry.new(history=(RequestHistory("GET", "/v1/secret/data/web", None, 429, None),))

    with caplog.at_level(logging.DEBUG, logger="sentry_dsn_sync.vault"):
        retry.sleep(retry_after("4"))

    assert no_sleep == [5.0], "Vault rounds Retry-After down: one second more"
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [
        (logging.INFO, "sentry-dsn-sync: Vault answered GET /v1/secret/data/web with HTTP 429; waiting 5.0s "
         "(Retry-After plus one second) before retrying")
    ]


def test_a_short_backoff_is_a_debug_line_only(caplog: pytest.LogCaptureFixture, no_sleep: list[float]) -> None:
    retry = client._Retry(total=3, backoff_factor=0.2)
    retry = retry.new(history=(RequestHistory("GET", "/v1/secret/data/web", ConnectionError(), None, None),) * 2)

    with caplog.at_level(logging.DEBUG, logger="sentry_dsn_sync.vault"):
        retry.sleep()

    assert no_sleep and no_sleep[0] < client.ANNOUNCED_WAIT
    assert [r.levelno for r in caplog.records] == [logging.DEBUG]
    assert "with ConnectionError; waiting" in caplog.records[0].getMessage()
