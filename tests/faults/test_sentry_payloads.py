"""Hostile and malformed Sentry answers through the real CLI: each fails only its own project.

A rotation is pending for every project, so each broken answer really offers
a replacement for the published value; with `--continue-on-error` the clean
projects are published and the broken ones keep their last good value.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.faults.ledger import LEDGER
from tests.faults.stack import ORG, FaultStack, said

pytestmark = pytest.mark.e2e

KEYS_LISTING = f"/organizations/{ORG}/project-keys/"
PROJECTS_LISTING = f"/organizations/{ORG}/projects/"


def rotate_all(stack: FaultStack) -> dict[str, dict[str, Any]]:
    return {slug: stack.sentry.admin.rotate_key(ORG, slug, label="Rotation") for slug in stack.projects}


def host_of(stack: FaultStack) -> str:
    organization = stack.sentry.simulator.state.organization(ORG)
    assert organization is not None
    return organization.ingest_host


# project -> (the DSN Sentry sends for the new key, what the error must say)
HOSTILE_DSNS: dict[str, tuple[Callable[[str, str, int], str], str]] = {
    "alpha": (lambda key, host, pid: "javascript:alert(1)", "has the scheme 'javascript', not http or https"),
    "bravo": (lambda key, host, pid: f"https://attacker@evil.example/{pid}", "user part that is not the key's public"),
    "charlie": (lambda key, host, pid: f"https://{key}:stolen@{host}/{pid}", "carries a password"),
    "delta": (lambda key, host, pid: f"https://{key}@{host}/999", "does not end in the project id"),
    "echo": (lambda key, host, pid: f"ftp://{key}@{host}/{pid}", "has the scheme 'ftp'"),
    "foxtrot": (lambda key, host, pid: f"https://{key}@{host}/{pid}?redirect=evil", "has a query or fragment"),
    "golf": (lambda key, host, pid: f"https://{key}@{host}/{pid}\r\nX-Injected: 1", "control characters"),
}


def test_hostile_dsns_fail_only_their_project_and_keep_the_last_good_value(stack: FaultStack) -> None:
    rotated = rotate_all(stack)
    host = host_of(stack)
    faults = {}
    for slug, (dsn_of, cause) in HOSTILE_DSNS.items():
        key = rotated[slug]
        project = stack.sentry.simulator.state.project(ORG, slug)
        assert project is not None
        stack.sentry.admin.tamper({"id": key["id"]}, set={"dsn.public": dsn_of(key["public"], host, project.id)})
        faults[slug] = LEDGER.injected("hostile DSN from Sentry", f"hostile DSN for {slug}: {cause}")

    result = stack.up("--continue-on-error")

    text = said(result)
    for slug, (_, cause) in HOSTILE_DSNS.items():
        stack.check_after_fault(result, cause=f"project '{slug}': client key '{rotated[slug]['id']}' has a public DSN")
        assert cause in text, text
        assert stack.secret(slug) is not None
        assert stack.secret(slug)[0]["key_id"] != rotated[slug]["id"], f"{slug} published a hostile DSN"  # type: ignore[index]
    assert stack.secret("hotel")[0]["key_id"] == rotated["hotel"]["id"], "the clean project is published"  # type: ignore[index]
    assert "stolen" not in text

    stack.sentry.admin.clear_faults()
    stack.converge()
    for name in faults.values():
        LEDGER.survived(name)


# project -> (tamper rule for its new key in the org-wide listing, what the error says)
MALFORMED_KEYS: dict[str, tuple[dict[str, Any], str]] = {
    "alpha": ({"drop": ["public"]}, "without 'public'"),
    "bravo": ({"set": {"isActive": "yes"}}, "whose 'isActive' is not true or false"),
    "charlie": ({"set": {"dateCreated": "yesterday"}}, "whose 'dateCreated' is not an ISO 8601 date-time"),
    "delta": ({"set": {"dsn": "https://not-an-object"}}, "whose 'dsn' is a str"),
    "echo": ({"set": {"label": ["a", "list"]}}, "whose 'label' is a list"),
}


def test_a_malformed_key_or_project_in_the_listings_fails_only_the_project_it_belongs_to(stack: FaultStack) -> None:
    rotated = rotate_all(stack)
    faults = []
    for slug, (rule, _) in MALFORMED_KEYS.items():
        stack.sentry.admin.tamper({"id": rotated[slug]["id"]}, path_contains=KEYS_LISTING, **rule)
        faults.append(LEDGER.injected("malformed item in a listing", f"malformed key of {slug}"))
    foxtrot = stack.sentry.simulator.state.project(ORG, "foxtrot")
    assert foxtrot is not None
    stack.sentry.admin.tamper({"slug": "foxtrot"}, set={"id": "not-a-number"}, path_contains=PROJECTS_LISTING)
    faults.append(LEDGER.injected("malformed item in a listing", "malformed project foxtrot"))

    result = stack.up("--continue-on-error")

    text = said(result)
    for slug, (_, cause) in MALFORMED_KEYS.items():
        stack.check_after_fault(result, cause=f"project '{slug}': Sentry listed client keys of it that could not be read")
        assert f"client key '{rotated[slug]['id']}'" in text and cause in text, text
        assert stack.secret(slug)[0]["key_id"] != rotated[slug]["id"]  # type: ignore[index]
    assert "project 'foxtrot': Sentry listed it in a form that could not be read" in text, text
    for slug in ("golf", "hotel"):
        assert stack.secret(slug)[0]["key_id"] == rotated[slug]["id"], f"{slug} is published"  # type: ignore[index]

    stack.sentry.admin.clear_faults()
    stack.converge()
    for name in faults:
        LEDGER.survived(name)
