"""Vault stopped, sealed, restarted, denying or revoking, through the real CLI: the run stops with a
message naming the cause (never a traceback, also when Vault refuses at write time), nothing the
tool does not own changes, and the run after the fault converges."""

from __future__ import annotations

import pytest

import requests

from devenv.openbao import SealableOpenBaoServer
from tests.faults.gate import vault_gate
from tests.faults.ledger import LEDGER
from tests.faults.stack import FOREIGN_FIELD, ORG, PROJECTS, FaultStack

pytestmark = pytest.mark.e2e


def token_with_policy(bao: SealableOpenBaoServer, stack: FaultStack, name: str, rules: str) -> str:
    """A token whose only policy is `rules` (with `{mount}` filled in); the leak scan looks for it."""
    client = bao.client()
    client.sys.create_or_update_policy(name, rules.replace("{mount}", stack.mount))
    token: str = client.auth.token.create(policies=[name], ttl="10m")["auth"]["client_token"]
    stack.credentials.append(token)
    return token


MOUNT_READ = 'path "sys/internal/ui/mounts/{mount}" { capabilities = ["read"] }\n'
READ_ONLY = MOUNT_READ + 'path "{mount}/*" { capabilities = ["read"] }\n'
# Capabilities a capability check approves, and a parameter rule that refuses every KV v2
# write anyway (its `options` carry check-and-set): Vault says no only at write time.
REFUSES_WRITES = MOUNT_READ + """
path "{mount}/data/sentry/*" {
  capabilities = ["create", "read", "update", "patch", "delete"]
  denied_parameters = { "options" = [] }
}
path "{mount}/metadata/sentry/*" { capabilities = ["read", "patch", "delete"] }
"""
NO_DELETE = MOUNT_READ + """
path "{mount}/data/sentry/*" { capabilities = ["create", "read", "update", "patch"] }
path "{mount}/metadata/sentry/*" { capabilities = ["read", "patch"] }
"""


def rotate(stack: FaultStack, slug: str = "charlie") -> None:
    """A pending rotation: any write the fault let through would change this secret."""
    stack.sentry.admin.rotate_key(ORG, slug, label="Rotation")


def test_vault_stopped_then_started_again(stack: FaultStack, bao: SealableOpenBaoServer) -> None:
    rotate(stack)
    fault = LEDGER.injected("Vault unavailable", "Vault process killed")
    bao.process.kill()
    bao.process.wait()

    result = stack.up()

    bao.restart()  # the invariants are read from Vault, so it must be back first
    bao.unseal()
    stack.check_after_fault(result, cause=f"cannot reach Vault at {bao.address}")
    stack.converge()
    LEDGER.survived(fault)


@pytest.mark.parametrize("how", ["sealed", "restarted (comes back sealed)"])
def test_vault_sealed(stack: FaultStack, bao: SealableOpenBaoServer, how: str) -> None:
    rotate(stack)
    fault = LEDGER.injected("Vault sealed", f"Vault {how}")
    if how == "sealed":
        bao.seal()
    else:
        bao.restart()

    result = stack.up()

    bao.unseal()
    stack.check_after_fault(result, cause=f"Vault at {bao.address} is sealed")
    stack.converge()
    LEDGER.survived(fault)


def test_a_token_without_write_access_fails_before_writing(stack: FaultStack, bao: SealableOpenBaoServer) -> None:
    rotate(stack)
    token = token_with_policy(bao, stack, "faults-read-only", READ_ONLY)
    fault = LEDGER.injected("Vault denies", "token with a read-only policy")

    result = stack.up(env={"VAULT_TOKEN": token})

    stack.check_after_fault(result, cause="the Vault token's policy lacks `update`")
    stack.converge()
    LEDGER.survived(fault)


def test_a_revoked_token(stack: FaultStack, bao: SealableOpenBaoServer) -> None:
    rotate(stack)
    everything = 'path "*" { capabilities = ["sudo", "read", "create", "update", "patch", "delete", "list"] }'
    token = token_with_policy(bao, stack, "faults-revoked", everything)
    bao.client().auth.token.revoke(token)
    fault = LEDGER.injected("Vault denies", "revoked token")

    result = stack.up(env={"VAULT_TOKEN": token})

    stack.check_after_fault(result, cause="permission denied")
    stack.converge()
    LEDGER.survived(fault)


def test_vault_refusing_the_write_itself_reads_like_a_check_error(
    stack: FaultStack, bao: SealableOpenBaoServer
) -> None:
    rotate(stack)
    token = token_with_policy(bao, stack, "faults-refuses-writes", REFUSES_WRITES)
    fault = LEDGER.injected("Vault refuses at write time", "write refused in update")

    result = stack.up(env={"VAULT_TOKEN": token})

    stack.check_after_fault(result, cause="permission denied")
    assert "ProjectDsn charlie **updating failed**" in result.stdout, result.stdout
    stack.converge()
    LEDGER.survived(fault)


def test_vault_refusing_a_delete_reads_like_a_check_error(stack: FaultStack, bao: SealableOpenBaoServer) -> None:
    token = token_with_policy(bao, stack, "faults-no-delete", NO_DELETE)
    fault = LEDGER.injected("Vault refuses at write time", "delete refused")
    stack.configure(projects=[slug for slug in PROJECTS if slug != "hotel"])

    result = stack.up(env={"VAULT_TOKEN": token})

    stack.check_after_fault(result, cause="permission denied")
    assert "ProjectDsn hotel **deleting failed**" in result.stdout, result.stdout
    stack.configure(projects=list(PROJECTS))
    stack.converge()
    LEDGER.survived(fault)


def test_a_check_and_set_conflict_that_outlasts_the_retries_reads_like_a_check_error(
    stack: FaultStack, bao: SealableOpenBaoServer
) -> None:
    rotate(stack)
    fault = LEDGER.injected("Vault refuses at write time", "check-and-set lost to another writer on every attempt")

    def other_writer(path: str) -> None:
        # A real write by someone else, re-stating their own field: a new version every time.
        requests.patch(
            f"{bao.address}{path}", json={"data": FOREIGN_FIELD}, timeout=10,
            headers={"X-Vault-Token": bao.root_token, "Content-Type": "application/merge-patch+json"},
        ).raise_for_status()

    with vault_gate(bao.address, writes_allowed=10_000, before_write=other_writer) as (_, address):
        result = stack.up(env={"VAULT_ADDR": address})

    stack.check_after_fault(result, cause="kept changing under another writer; gave up after 5 check-and-set attempts")
    assert "ProjectDsn charlie **updating failed**" in result.stdout, result.stdout
    stack.converge()
    LEDGER.survived(fault)
