"""A large first run under PULUMI_SKIP_CHECKPOINTS, killed part way, converges on the documented recovery.

With that variable the engine saves the stack's state once, at the end of the
command, instead of after every step. A first `up` killed part way therefore
leaves no record of the secrets it already wrote; the re-run creates every
resource again, and because each create is a check-and-set merge that writes
only what differs, it converges: every secret right, none written twice,
fields written by others kept (README, "Large organizations"). The only
leftover of the killed command is its lock on the stack, which `pulumi
cancel` removes.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hvac
import hvac.exceptions
import pytest

from devenv.processes import kill_session
from devenv.pulumi_cli import PulumiProject
from sentry_simulator.seed import generate_seed
from sentry_simulator.testing import running_simulator
from tests.e2e.stack_helpers import STACK, configure
from tests.sentry_view import newest_active_key

pytestmark = pytest.mark.e2e

PROJECTS = [f"project-{p:04d}" for p in range(120)]
# Written by someone else before the first run: one early and one late in the order of creation.
FOREIGN = {"project-0000": {"owner": "team-a"}, "project-0119": {"owner": "team-b", "dsn": "stale"}}
KILL_AFTER = 5  # secrets published before the kill


@pytest.fixture
def simulator() -> Iterator[Any]:
    """An organization large enough that a first run is still writing when it is killed."""
    seed = generate_seed(organization="acme", projects=len(PROJECTS), token="demo-token")
    with running_simulator(seed) as sim:
        yield sim


def published_slugs(vault: hvac.Client, mount: str) -> list[str]:
    try:
        listed = vault.secrets.kv.v2.list_secrets(path="sentry/acme", mount_point=mount)
    except hvac.exceptions.InvalidPath:
        return []
    return [str(key) for key in listed["data"]["keys"]]


def secret(vault: hvac.Client, mount: str, slug: str) -> tuple[dict[str, Any], int]:
    """The secret's data and its number of versions (KV v2 metadata `current_version`)."""
    data = vault.secrets.kv.v2.read_secret_version(path=f"sentry/acme/{slug}", mount_point=mount,
                                                   raise_on_deleted_version=True)["data"]["data"]
    meta = vault.secrets.kv.v2.read_secret_metadata(path=f"sentry/acme/{slug}", mount_point=mount)["data"]
    return dict(data), int(meta["current_version"])


def expected_fields(simulator: Any, slug: str) -> dict[str, str]:
    key = newest_active_key(simulator, slug)
    return {"dsn": key["dsn"]["public"], "public_key": key["public"], "project_id": str(key["projectId"]),
            "project_slug": slug, "organization": "acme", "key_id": key["id"]}


def kill_first_up_part_way(project: PulumiProject, vault: hvac.Client, mount: str, log: Path) -> int:
    """Start `pulumi up` with PULUMI_SKIP_CHECKPOINTS=true, SIGKILL it and every process it started once
    KILL_AFTER secrets are in Vault (as a CI runner dies), and return how many were published by then."""
    env = {**project.env(), "PULUMI_SKIP_CHECKPOINTS": "true"}
    with log.open("w") as out:
        # A session of its own: the CLI, the language host, the program and the provider die together
        # (devenv.processes: the CLI starts each plugin in a process group of its own).
        process = subprocess.Popen(
            [str(project.bin_dir / "pulumi"), "--non-interactive", "up", "--yes", "--skip-preview", "--stack", STACK],
            cwd=project.project_dir, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
        deadline = time.monotonic() + 300
        try:
            while len(published_slugs(vault, mount)) < KILL_AFTER + len(FOREIGN):
                assert process.poll() is None, f"the first up ended before it was killed:\n{log.read_text()}"
                assert time.monotonic() < deadline, "no secret was published within 300 s"
                time.sleep(0.02)
        finally:
            kill_session(process.pid)
            process.wait()
    time.sleep(0.5)  # nothing of the killed run may still be writing
    return len(published_slugs(vault, mount)) - len(FOREIGN)


def test_a_first_up_killed_under_skip_checkpoints_converges_on_a_plain_re_run(
    pulumi_project: PulumiProject, simulator: Any, openbao: Any, vault_mount: str, tmp_path: Path
) -> None:
    configure(pulumi_project, organization="acme", projects=PROJECTS)
    vault = openbao.client()
    for slug, fields in FOREIGN.items():
        vault.secrets.kv.v2.create_or_update_secret(path=f"sentry/acme/{slug}", secret=fields, mount_point=vault_mount)

    published = kill_first_up_part_way(pulumi_project, vault, vault_mount, tmp_path / "killed-up.log")

    assert KILL_AFTER <= published < len(PROJECTS), f"the kill did not land part way: {published} published"
    state = pulumi_project.export_state(STACK)["deployment"]
    assert not state.get("resources"), "with checkpoints skipped, nothing of the killed run reached the state"
    assert not state.get("pending_operations"), "so there is no pending create to clear either"

    # The killed CLI left its lock behind (the file backend locks a stack for the length of a command).
    locked = pulumi_project.up(STACK, "--skip-preview", check=False)
    assert locked.returncode != 0 and "the stack is currently locked" in locked.stderr, locked.stderr
    # The documented recovery: `pulumi cancel` (which removes that lock), then `pulumi up` again. No
    # `pulumi refresh`: the state holds nothing of the killed run for it to reconcile.
    pulumi_project.run("cancel", "--yes", "--stack", STACK)
    pulumi_project.up(STACK, "--skip-preview")

    for slug in PROJECTS:
        data, versions = secret(vault, vault_mount, slug)
        foreign = {key: value for key, value in FOREIGN.get(slug, {}).items() if key == "owner"}
        assert data == {**expected_fields(simulator, slug), **foreign}, slug
        # Written once by the tool: a secret the killed run had already written was not written again.
        assert versions == (2 if slug in FOREIGN else 1), (slug, versions)
    urns = [r["urn"] for r in pulumi_project.export_state(STACK)["deployment"]["resources"]
            if r["type"].endswith(":ProjectDsn")]
    assert len(urns) == len(set(urns)) == len(PROJECTS)
    assert set(pulumi_project.outputs(STACK)["dsns"]) == set(PROJECTS)
    pulumi_project.preview(STACK, "--expect-no-changes")
