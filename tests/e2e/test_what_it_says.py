"""What the tool says during `pulumi up` and `preview`: warnings, announced Vault waits, debug lines.

The dynamic provider sends its messages to the engine's log, so they appear
where Pulumi users look: warnings in the run's Diagnostics, a wait longer than
a second as an info line, debug lines with `--debug` or `-v=9 --logtostderr`.
None of them ever holds a credential or a key's secret.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import requests

from devenv.openbao import OpenBaoServer
from devenv.pulumi_cli import PulumiProject
from tests.e2e.stack_helpers import STACK, configure
from tests.sentry_view import sentry_keys

pytestmark = pytest.mark.e2e


def said(result: Any) -> str:
    return str(result.stdout) + str(result.stderr)


def test_several_active_keys_are_a_warning_in_pulumi_ups_diagnostics(
    pulumi_project: PulumiProject, simulator: Any
) -> None:
    configure(pulumi_project, organization="acme", projects=["web", "api"])
    simulator.admin.rotate_key("acme", "web", label="Rotation 2026")

    result = pulumi_project.up(STACK)

    diagnostics = result.stdout.split("Diagnostics:", 1)[1]
    assert re.search(r"warning: project 'web' has \d+ active client keys .*publishing the newest, 'Rotation 2026'", diagnostics)
    assert "warning" in result.stdout.split("Diagnostics:", 1)[0].rsplit("pulumi:pulumi:Stack", 1)[1]


def test_a_preview_of_a_new_stack_shows_the_warning_though_no_call_follows_the_check(
    pulumi_project: PulumiProject, simulator: Any
) -> None:
    # A preview checks new resources and calls nothing after them: the provider sends the
    # warning of the last check ('web') while the engine finishes, not when it is stopped.
    configure(pulumi_project, organization="acme", projects=["api", "web"])
    simulator.admin.rotate_key("acme", "web", label="Rotation 2026")

    result = pulumi_project.run("preview", "--stack", STACK)

    diagnostics = result.stdout.split("Diagnostics:", 1)[1]
    assert re.search(r"warning: project 'web' has \d+ active client keys .*publishing the newest, 'Rotation 2026'", diagnostics)
    assert "active client keys" not in result.stderr  # not the provider's own stderr at its exit


def test_debug_lines_show_with_verbose_logging_and_hold_no_credential(
    pulumi_project: PulumiProject, simulator: Any, openbao: OpenBaoServer, vault_mount: str
) -> None:
    configure(pulumi_project, organization="acme", projects=["web", "api"])

    result = pulumi_project.up(STACK, "--skip-preview", "-v=9", "--logtostderr")

    debug = re.findall(r"eventSink::Debug\(<\{%reset%\}>(.*?)<\{%reset%\}>\)", result.stderr)
    assert f"logging in to Vault at {openbao.address} with the token auth method" in debug
    assert any(line.startswith(f"published web's DSN (key ") and f" at {vault_mount}/sentry/acme/web: version " in line for line in debug)
    secrets = [openbao.root_token, "demo-token"] + [key["secret"] for p in ("web", "api") for key in sentry_keys(simulator, p)]
    assert [secret for secret in secrets if secret in said(result)] == []


@contextmanager
def rate_limited(openbao: OpenBaoServer, mount: str) -> Iterator[None]:
    """A rate-limit quota on `mount`: one request per 10 s window, with Retry-After sent."""
    root = openbao.client()
    root.adapter.post("/v1/sys/quotas/config", json={"enable_rate_limit_response_headers": True})
    name = f"limit-{mount}"
    quota = {"path": f"{mount}/", "rate": 1, "interval": "10s"}
    root.adapter.post(f"/v1/sys/quotas/rate-limit/{name}", json=quota)
    try:
        yield
    finally:
        root.delete(f"sys/quotas/rate-limit/{name}")


def exhaust(openbao: OpenBaoServer, mount: str) -> None:
    """Spend the quota until Vault blocks the mount, as a busy neighbour would."""
    headers = {"X-Vault-Token": openbao.root_token}
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if requests.get(f"{openbao.address}/v1/{mount}/data/neighbour", headers=headers, timeout=5).status_code == 429:
            return
    raise AssertionError("the quota never blocked the mount")


def test_a_vault_rate_limit_wait_is_announced_in_pulumi_up_output_with_its_reason_and_length(
    pulumi_project: PulumiProject, openbao: OpenBaoServer, vault_mount: str
) -> None:
    configure(pulumi_project, organization="acme", projects=["web"])
    pulumi_project.up(STACK, "--skip-preview")
    with rate_limited(openbao, vault_mount):
        exhaust(openbao, vault_mount)

        result = pulumi_project.up(STACK, "--skip-preview")

    announced = re.search(
        rf"sentry-dsn-sync: Vault answered GET /v1/{vault_mount}/data/sentry/acme/web with HTTP 429; waiting (\d+\.\d)s "
        r"\(Retry-After plus one second\) before retrying",
        result.stdout,
    )
    assert announced, said(result)
    assert float(announced.group(1)) > 1
    assert openbao.root_token not in said(result)
