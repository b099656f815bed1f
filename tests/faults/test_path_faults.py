"""Paths that would leave the mount, from the config or from slugs Sentry sends, through the real CLI:
refused with a message naming the culprit, nothing written anywhere, and the fixed config converges."""

from __future__ import annotations

from typing import Any

import pytest

from tests.faults.ledger import LEDGER
from tests.faults.stack import ORG, PROJECTS, STACK, TEAM, FaultStack

pytestmark = pytest.mark.e2e


def with_alpha(entry: dict[str, Any]) -> list[Any]:
    return [entry, *PROJECTS[1:]]


# name -> (config that points outside the mount, what the error must say)
BAD_CONFIG: dict[str, tuple[dict[str, Any], str]] = {
    "pathTemplate climbing out with '..'": (
        {"vault": {"pathTemplate": "sentry/../../sys/{project}"}},
        "vault.pathTemplate: 'sentry/../../sys/{project}' is not a usable Vault path: it has a '..' segment",
    ),
    "absolute pathTemplate": (
        {"vault": {"pathTemplate": "/sentry/{project}"}},
        "vault.pathTemplate: '/sentry/{project}' is not a usable Vault path: it is absolute",
    ),
    "project path that is absolute": (
        {"projects": with_alpha({"slug": "alpha", "path": "/sys/policy/alpha"})},
        "projects[0].path: '/sys/policy/alpha' is not a usable Vault path: it is absolute",
    ),
    "project path with a '.' segment": (
        {"projects": with_alpha({"slug": "alpha", "path": "apps/./alpha"})},
        "projects[0].path: 'apps/./alpha' is not a usable Vault path: it has a '.' segment",
    ),
    "mount climbing out with '..'": (
        {"vault": {"mount": "kv/../sys"}},
        "vault.mount: 'kv/../sys' is not a mount path: it has a '..' segment",
    ),
}


def mount_listing(stack: FaultStack) -> Any:
    return stack.root().secrets.kv.v2.list_secrets(path="", mount_point=stack.mount)["data"]["keys"]


@pytest.mark.parametrize("name", list(BAD_CONFIG))
def test_a_config_path_outside_the_mount_is_refused_before_anything_is_written(stack: FaultStack, name: str) -> None:
    values, cause = BAD_CONFIG[name]
    stack.sentry.admin.rotate_key(ORG, "alpha", label="Rotation")
    mounts = set(stack.root().sys.list_mounted_secrets_engines()["data"])
    fault = LEDGER.injected("path outside the mount", name)
    vault = values.get("vault")
    stack.configure(**{**values, **({"vault": {"mount": stack.mount, **vault}} if vault else {})})

    result = stack.up()

    stack.check_after_fault(result, cause=cause)
    assert mount_listing(stack) == ["sentry/"]
    assert set(stack.root().sys.list_mounted_secrets_engines()["data"]) == mounts
    stack.configure(projects=list(PROJECTS), vault={"mount": stack.mount})
    stack.converge()
    LEDGER.survived(fault)


@pytest.mark.parametrize("slug", ["../../escape", "nested/path"])
def test_a_slug_from_sentry_that_is_not_a_slug_writes_nothing(stack: FaultStack, slug: str) -> None:
    team_listing = f"/teams/{ORG}/{TEAM}/projects/"
    stack.sentry.admin.tamper({"slug": "hotel"}, set={"slug": slug}, path_contains=team_listing)
    stack.sentry.admin.rotate_key(ORG, "golf", label="Rotation")
    fault = LEDGER.injected("slug from Sentry", f"team listing sends the slug {slug!r}")
    stack.configure(team=TEAM)

    result = stack.up()

    stack.check_after_fault(result, cause=f"with a project whose 'slug' {slug!r} is not a Sentry slug")
    assert f"teams/{ORG}/{TEAM}/projects/" in result.stdout + result.stderr, "the message names where it came from"
    assert mount_listing(stack) == ["sentry/"]
    stack.sentry.admin.clear_faults()
    stack.pulumi.run("config", "rm", "--stack", STACK, "sentry-dsn-sync:team")
    stack.converge()
    LEDGER.survived(fault)
