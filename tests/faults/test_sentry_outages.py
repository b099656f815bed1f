"""Sentry down, failing or refusing the token, through the real CLI: the run stops with a message
naming the cause, Vault keeps every last good value, and the run after the fault converges."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from devenv.openbao import free_port
from tests.faults.ledger import LEDGER
from tests.faults.stack import ORG, FaultStack

pytestmark = pytest.mark.e2e

KEYS_LISTING = f"/organizations/{ORG}/project-keys/"


def _inject(**fault: Any) -> Callable[[FaultStack], dict[str, str] | None]:
    def inject(stack: FaultStack) -> dict[str, str] | None:
        stack.sentry.admin.inject_fault(**fault)
        return None

    return inject


def _sentry_down(stack: FaultStack) -> dict[str, str]:
    return {"SENTRY_URL": f"http://127.0.0.1:{free_port()}/"}


def _wrong_token(stack: FaultStack) -> dict[str, str]:
    # A config value wins over the environment: the secret in the config is what is wrong here.
    stack.pulumi.set_config("faults", "sentry-dsn-sync:sentryToken", "revoked-token-77", secret=True)
    return {}


# name -> (how to inject it, what the error must say)
OUTAGES: dict[str, tuple[Callable[[FaultStack], dict[str, str] | None], str]] = {
    "Sentry answers 500 on every request": (_inject(status=500, count=None), "Sentry did not answer"),
    "Sentry is down (connection refused)": (_sentry_down, "Sentry did not answer"),
    "Sentry rejects the token (401)": (_wrong_token, "Sentry rejected the token from config"),
    "Sentry refuses the token's scope (403)": (
        _inject(status=403, count=None),
        "may not call",
    ),
    "a truncated JSON answer": (_inject(malformed=True, count=None, path_contains=KEYS_LISTING), "Sentry answered"),
}


@pytest.mark.parametrize("name", list(OUTAGES))
def test_a_sentry_outage_changes_nothing_and_the_next_run_converges(stack: FaultStack, name: str) -> None:
    inject, cause = OUTAGES[name]
    # A rotation is pending, so a run that wrote anything would change the secret.
    stack.sentry.admin.rotate_key(ORG, "bravo", label="Rotation")
    fault = LEDGER.injected("Sentry outage or refusal", name)
    env = inject(stack)

    result = stack.up(env=env)

    stack.check_after_fault(result, cause=cause)
    assert stack.secret("bravo")[0] == {**stack.secret("bravo")[0], **stack.last_good["bravo"]}  # type: ignore[index]
    stack.sentry.admin.clear_faults()
    stack.pulumi.set_config("faults", "sentry-dsn-sync:sentryToken", stack.credentials[0], secret=True)
    stack.converge()
    LEDGER.survived(fault)
