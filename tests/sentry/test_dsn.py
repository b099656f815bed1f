"""A public DSN is published only when it is a DSN of that very key and project."""

from __future__ import annotations

import pytest

from sentry_dsn_sync.errors import InvalidDsnError, SentryResponseError
from sentry_dsn_sync.sentry._dsn import check_public_dsn, dsn_problem

KEY = "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6"
PID = 4508000000000101


@pytest.mark.parametrize(
    "dsn",
    [
        f"https://{KEY}@o1.ingest.us.sentry.io/{PID}",
        f"http://{KEY}@sentry.example.com:9000/sentry/{PID}",
        f"https://{KEY}@127.0.0.1/{PID}",
    ],
)
def test_real_dsns_are_accepted(dsn: str) -> None:
    assert dsn_problem(dsn, public_key=KEY, project_id=PID) is None


@pytest.mark.parametrize(
    ("dsn", "problem"),
    [
        ("javascript:alert(1)", "has the scheme 'javascript', not http or https"),
        (f"ftp://{KEY}@host/{PID}", "has the scheme 'ftp'"),
        (f"https://{KEY}:secret@host/{PID}", "carries a password"),
        (f"https://{KEY}@/{PID}", "has no valid host"),
        (f"https://{KEY}@ho_st!/{PID}", "has no valid host"),
        (f"https://attacker@evil.example/{PID}", "has a user part that is not the key's public key"),
        (f"https://evil.example/{PID}", "has a user part that is not the key's public key"),
        (f"https://{KEY}@host/999", f"does not end in the project id {PID}"),
        (f"https://{KEY}@host/{PID}/", f"does not end in the project id {PID}"),
        (f"https://{KEY}@host/{PID}?x=1", "has a query or fragment"),
        (f"https://{KEY}@host/{PID}\n", "contains whitespace or control characters"),
        (f"https://{KEY}@host:99999/{PID}", "is not a URL"),
    ],
)
def test_anything_else_is_refused_with_the_reason(dsn: str, problem: str) -> None:
    assert (dsn_problem(dsn, public_key=KEY, project_id=PID) or "").startswith(problem)


def test_the_error_names_project_key_and_problem_and_hides_a_password() -> None:
    with pytest.raises(InvalidDsnError) as caught:
        check_public_dsn(f"https://{KEY}:hunter2@host/{PID}", key_id="k1", public_key=KEY, project_id=PID, project="web")

    message = str(caught.value)
    assert message.startswith("project 'web': client key 'k1' has a public DSN that carries a password")
    assert "hunter2" not in message and "last good value" in message
    assert isinstance(caught.value, SentryResponseError)
