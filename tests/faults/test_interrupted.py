"""Runs killed between two Vault writes, and the recovery docs/troubleshooting.md gives for them
("Interrupted runs"): `pulumi cancel`, then `pulumi up`. Nothing is lost or half-written."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from devenv.openbao import SealableOpenBaoServer
from devenv.processes import kill_session, session_processes
from tests.faults.gate import VaultGate, vault_gate
from tests.faults.ledger import LEDGER
from tests.faults.stack import FOREIGN_FIELD, ORG, PROJECTS, STACK, FaultStack, said

pytestmark = pytest.mark.e2e

WRITES_BEFORE_THE_KILL = 3


@contextmanager
def up_held_after_writes(stack: FaultStack, bao: SealableOpenBaoServer) -> Iterator[tuple[subprocess.Popen[str], VaultGate]]:
    """`pulumi up` in a session of its own, its Vault requests held once the allowed writes are made."""
    with vault_gate(bao.address, writes_allowed=WRITES_BEFORE_THE_KILL) as (gate, address):
        env = {**stack.pulumi.env(), "VAULT_ADDR": address}
        process = subprocess.Popen(
            [str(stack.pulumi.bin_dir / "pulumi"), "--non-interactive", "up", "--yes", "--skip-preview", "--stack", STACK],
            cwd=stack.pulumi.project_dir, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            start_new_session=True,
        )
        try:
            assert gate.held.wait(120), "the run never reached its fourth Vault write"
            yield process, gate
        finally:
            kill_session(process.pid)
            stack.outputs.append(process.communicate()[0])


def pending_work(stack: FaultStack) -> dict[str, dict[str, str]]:
    """Two projects to create (their secrets kept from before) and a rotation for every project."""
    stack.configure(projects=list(PROJECTS[:6]), vault={"mount": stack.mount, "onDelete": "retain"})
    stack.converge()
    stack.configure(projects=list(PROJECTS), vault={"mount": stack.mount})
    for slug in PROJECTS:
        stack.sentry.admin.rotate_key(ORG, slug, label="Rotation")
    return {slug: stack.expected(slug) for slug in PROJECTS}


def assert_each_secret_whole(stack: FaultStack, new: dict[str, dict[str, str]]) -> int:
    """Every secret holds the old value or the new one, whole: never a mix. Returns how many are new."""
    rotated = 0
    for slug in PROJECTS:
        found = stack.secret(slug)
        assert found is not None, f"{slug} lost its secret"
        tool = {name: found[0].get(name) for name in new[slug]}
        assert tool in (stack.last_good[slug], new[slug]), f"{slug} is half-written: {tool}"
        assert {name: found[0].get(name) for name in FOREIGN_FIELD} == FOREIGN_FIELD
        rotated += tool == new[slug]
    return rotated


def test_a_killed_up_is_recovered_by_cancel_then_up(stack: FaultStack, bao: SealableOpenBaoServer) -> None:
    new = pending_work(stack)
    fault = LEDGER.injected("process killed", "pulumi up killed between two Vault writes")
    with up_held_after_writes(stack, bao) as (process, _):
        kill_session(process.pid)
        process.wait()

    assert assert_each_secret_whole(stack, new) == WRITES_BEFORE_THE_KILL
    locked = stack.up()
    if "failed to load checkpoint: EOF" in said(locked):
        # The kill landed while the file backend wrote the state's attributes file; the state
        # itself is whole. docs/troubleshooting.md ("Interrupted runs") says what to remove.
        attributes = stack.pulumi.backend_dir / ".pulumi" / "stacks" / "sentry-dsn-sync" / f"{STACK}.json.attrs"
        assert attributes.stat().st_size == 0, said(locked)
        attributes.unlink()
        locked = stack.up()
    assert locked.returncode != 0 and "the stack is currently locked" in said(locked), said(locked)
    assert "pulumi cancel" in said(locked)

    cancelled = stack.run("cancel", "--yes", "--stack", STACK)
    assert cancelled.returncode == 0, said(cancelled)
    stack.converge()
    assert stack.preview("--expect-no-changes").returncode == 0
    for slug in PROJECTS:
        metadata = stack.secret(slug)[1]  # type: ignore[index]
        assert metadata.get("managed-by") == "sentry-dsn-sync" and metadata.get("stack") == STACK, (slug, metadata)
    LEDGER.survived(fault)


def provider_pids(session: int) -> list[int]:
    """The dynamic-provider processes (`python -m pulumi.dynamic`) of one process session."""
    return [process.pid for process in session_processes(session) if "-m pulumi.dynamic" in process.command]


def test_a_killed_provider_fails_the_run_and_the_next_up_converges(stack: FaultStack, bao: SealableOpenBaoServer) -> None:
    new = pending_work(stack)
    fault = LEDGER.injected("process killed", "provider process killed between two Vault writes")
    with up_held_after_writes(stack, bao) as (process, gate):
        providers = provider_pids(os.getsid(process.pid))
        assert providers, "no provider process found"
        for pid in providers:
            os.kill(pid, signal.SIGKILL)
        gate.release.set()
        assert process.wait(timeout=120) != 0

    assert assert_each_secret_whole(stack, new) == WRITES_BEFORE_THE_KILL
    stack.converge()
    LEDGER.survived(fault)
