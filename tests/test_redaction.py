"""The one rule for masking secrets in what messages, logs and state show."""

from __future__ import annotations

import pytest

from sentry_dsn_sync._redaction import redacted_url, scrubbed


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("https://public:secret@o1.ingest.sentry.io/42", "https://public:***@o1.ingest.sentry.io/42"),
        ("https://user:p%40ss@host:8200/x?y=1", "https://user:***@host:8200/x?y=1"),
        ("https://public@o1.ingest.sentry.io/42", "https://public@o1.ingest.sentry.io/42"),
        ("not a url", "not a url"),
        ("mail me at a@b", "mail me at a@b"),
        ("http://[::1:bad@host", "http://[::1:bad@host"),
    ],
)
def test_a_url_keeps_everything_but_its_password(text: str, shown: str) -> None:
    assert redacted_url(text) == shown


def test_every_given_secret_is_masked_and_empty_ones_are_ignored() -> None:
    text = "token abc123 rejected; secret-id s3cr3t unknown"
    assert scrubbed(text, ("abc123", "", "s3cr3t")) == "token *** rejected; secret-id *** unknown"
