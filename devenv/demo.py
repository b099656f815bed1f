"""`make demo`: the main job end to end on embedded defaults.

Starts the Sentry simulator with the demo organization and an OpenBao dev
server, runs `pulumi up` on a local stack with a file backend, prints the stack
outputs and what landed in Vault, then rotates one key and shows the preview a
pipeline would audit. Everything runs on loopback and stops at the end.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

from devenv.openbao import dev_server
from devenv.pulumi_cli import REPO_ROOT, PulumiProject, copy_project, toolchain_bin
from sentry_simulator.testing import SimulatorAdmin, start_simulator_process, stop_simulator_process

STACK = "demo"
SEED = REPO_ROOT / "sentry_simulator" / "seeds" / "demo.json"
WORK_DIR = REPO_ROOT / ".demo"


def banner(text: str) -> None:
    print(f"\n=== {text}", flush=True)


def main() -> int:
    shutil.rmtree(WORK_DIR, ignore_errors=True)
    project_dir = copy_project(WORK_DIR / "project")
    shutil.copy2(REPO_ROOT / "examples" / "stacks" / f"Pulumi.{STACK}.yaml", project_dir / "stacks")
    simulator, sentry_url = start_simulator_process(SEED)
    try:
        with dev_server() as vault:
            project = PulumiProject(
                project_dir=project_dir,
                backend_dir=WORK_DIR / "state",
                bin_dir=toolchain_bin(),
                extra_env={
                    "SENTRY_URL": sentry_url,
                    "SENTRY_AUTH_TOKEN": "demo-token",
                    "VAULT_ADDR": vault.address,
                    "VAULT_TOKEN": vault.root_token,
                },
            )
            banner(f"Sentry simulator at {sentry_url} (organization 'acme'); OpenBao dev server at {vault.address}")
            project.init_stack(STACK)

            banner("pulumi up")
            project.run("up", "--yes", "--stack", STACK, stream=True)

            banner("stack outputs (other stacks read these through StackReference)")
            print(json.dumps(project.outputs(STACK), indent=2))

            banner("what landed in Vault")
            client = vault.client()
            for path in sorted(client.secrets.kv.v2.list_secrets(path="sentry/acme", mount_point="secret")["data"]["keys"]):
                secret = client.secrets.kv.v2.read_secret_version(
                    path=f"sentry/acme/{path}", mount_point="secret", raise_on_deleted_version=True
                )
                print(f"secret/sentry/acme/{path}: {json.dumps(secret['data']['data'], indent=2)}")

            banner("a rotation: a new key for 'api' in Sentry, then `pulumi preview --diff`")
            rotated = SimulatorAdmin(sentry_url).rotate_key("acme", "api", label="Rotation 2026")
            print(f"created key {rotated['id']} ({rotated['label']}) for project 'api'")
            project.run("preview", "--diff", "--stack", STACK, stream=True)

            banner("pulumi up applies it: one new Vault version for 'api' only")
            project.run("up", "--yes", "--skip-preview", "--stack", STACK, stream=True)
            version = client.secrets.kv.v2.read_secret_metadata(path="sentry/acme/api", mount_point="secret")
            print(f"secret/sentry/acme/api is now at version {version['data']['current_version']}")
    finally:
        stop_simulator_process(simulator)
    banner(f"done; the demo's state and project copy are in {WORK_DIR}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
