"""README's commands and snippets work as written.

"Using it for real" runs verbatim in a fresh copy of the checkout (the files
git would clone), with the Sentry simulator and an OpenBao dev server standing
in for sentry.io and Vault: only the token and the addresses differ, and they
reach the block the way a user's would (the environment, the prompt for the
secret). The component and StackReference snippets then run as programs of
their own against the stack that block created.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from devenv.openbao import OpenBaoServer, dev_server
from devenv.pulumi_cli import REPO_ROOT, PulumiProject, copy_project, toolchain_bin
from sentry_simulator.seed import load_seed
from sentry_simulator.testing import running_simulator
from tests.e2e.checkout import fresh_checkout
from tests.e2e.stack_helpers import SEED_PATH
from tests.sentry_view import newest_active_key

pytestmark = pytest.mark.e2e

README = (REPO_ROOT / "README.md").read_text()
SENTRY_TOKEN = "demo-token"
STACK = "prod"  # the block's `pulumi stack init prod`


def section(title: str) -> str:
    """The text of README's `## <title>` section, up to its first subsection."""
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^##+ |\Z)", README, re.S | re.M)
    assert match, f"README has no section '{title}'"
    return match.group(1)


def code_blocks(title: str, language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", section(title), re.S | re.M)


def setup_stamp() -> Path:
    """The file scripts/setup.sh leaves in the venv once it installed these pyproject.toml and constraints.txt."""
    digest = hashlib.sha256((REPO_ROOT / "pyproject.toml").read_bytes() + (REPO_ROOT / "constraints.txt").read_bytes())
    return Path(sys.prefix) / f".installed-{digest.hexdigest()[:16]}"


def checkout_with_venv(destination: Path) -> Path:
    """A fresh checkout plus the test run's venv, linked, not rebuilt.

    `make setup` then finds its stamp and only checks the toolchain, as it
    does on a second run. Without the stamp it would reinstall the package
    into this venv from the throwaway copy, so the test refuses to start.
    """
    assert setup_stamp().exists(), "the venv predates pyproject.toml or constraints.txt: run `make setup` (or `make test`)"
    fresh_checkout(destination)
    (destination / ".venv").symlink_to(Path(sys.prefix), target_is_directory=True)
    return destination


@pytest.fixture(scope="module")
def vault() -> Iterator[OpenBaoServer]:
    """A server of this module's own: the block writes to the `secret/` mount that every dev server has."""
    with dev_server() as server:
        yield server


@pytest.fixture(scope="module")
def simulator() -> Iterator[Any]:
    with running_simulator(load_seed(SEED_PATH)) as sim:
        yield sim


@pytest.fixture(scope="module")
def real_use(tmp_path_factory: pytest.TempPathFactory, simulator: Any, vault: OpenBaoServer) -> dict[str, Any]:
    """Run README's "Using it for real" block once; return what the tests look at."""
    tmp_path = tmp_path_factory.mktemp("readme")
    block = code_blocks("Using it for real", "sh")[0]
    substituted = block.replace(
        "VAULT_ADDR=https://vault.example.com:8200 VAULT_TOKEN=...",
        f"VAULT_ADDR={vault.address} VAULT_TOKEN={vault.root_token}",
    )
    assert substituted != block, "README's block no longer exports VAULT_ADDR and VAULT_TOKEN as this test expects"
    checkout = checkout_with_venv(tmp_path / "checkout")
    script = tmp_path / "using-it-for-real.sh"
    script.write_text("set -e\n" + substituted)
    env = {key: value for key, value in os.environ.items() if not key.startswith(("VAULT_", "SENTRY_", "PULUMI_"))}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if Path(p) != Path(sys.prefix) / "bin")
    env.update(
        {
            # Where sentry.io and the Pulumi Cloud login would go; `pulumi login` honours PULUMI_BACKEND_URL.
            "SENTRY_URL": simulator.url,
            "PULUMI_BACKEND_URL": (tmp_path / "state").as_uri(),
            "PULUMI_HOME": str(tmp_path / "pulumi-home"),
            "PULUMI_CONFIG_PASSPHRASE": "readme",
            "PULUMI_SKIP_UPDATE_CHECK": "1",
            # `pulumi up` asks "Do you want to perform this update?"; this is the answer "yes".
            "PULUMI_SKIP_CONFIRMATIONS": "true",
        }
    )
    (tmp_path / "state").mkdir()
    # `pulumi config set --secret sentryToken` without a value reads it from its input.
    result = subprocess.run(
        ["bash", str(script)], cwd=checkout, env=env, input=SENTRY_TOKEN + "\n",
        capture_output=True, text=True, timeout=540,
    )
    assert result.returncode == 0, f"--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr}"
    return {"checkout": checkout, "env": env, "result": result, "state": tmp_path / "state"}


def test_using_it_for_real_runs_verbatim_and_publishes_each_project(
    real_use: dict[str, Any], simulator: Any, vault: OpenBaoServer
) -> None:
    output = real_use["result"].stdout + real_use["result"].stderr
    for project in ("web", "api"):
        dsn = newest_active_key(simulator, project)["dsn"]["public"]
        assert dsn in output, f"the preview shows {project}'s DSN"
        secret = vault.client().secrets.kv.v2.read_secret_version(
            path=f"sentry/acme/{project}", mount_point="secret", raise_on_deleted_version=True
        )
        assert secret["data"]["data"]["dsn"] == dsn
    assert SENTRY_TOKEN not in output
    assert vault.root_token not in output


def test_a_new_stack_starts_with_only_the_settings_the_user_gave(real_use: dict[str, Any]) -> None:
    stack_file = real_use["checkout"] / "stacks" / f"Pulumi.{STACK}.yaml"
    config = yaml.safe_load(stack_file.read_text())["config"]

    assert set(config) == {f"sentry-dsn-sync:{key}" for key in ("organization", "sentryToken", "projects", "vault")}
    assert config["sentry-dsn-sync:vault"] == {"mount": "secret"}
    assert set(config["sentry-dsn-sync:sentryToken"]) == {"secure"}, "stored encrypted"


def snippet_project(real_use: dict[str, Any], destination: Path, program: str, name: str) -> PulumiProject:
    """A project running `program` on the block's backend, toolchain and passphrase."""
    project_dir = copy_project(destination)
    (project_dir / "__main__.py").write_text(program)
    manifest = project_dir / "Pulumi.yaml"
    manifest.write_text(re.sub(r"^name: .*$", f"name: {name}", manifest.read_text(), count=1, flags=re.M))
    env = real_use["env"]
    project = PulumiProject(
        project_dir=project_dir,
        backend_dir=real_use["state"],
        bin_dir=toolchain_bin(),
        passphrase=env["PULUMI_CONFIG_PASSPHRASE"],
        extra_env={key: env[key] for key in ("SENTRY_URL", "PULUMI_HOME")},
    )
    return project


def test_the_component_snippets_publish_the_same_dsns(
    real_use: dict[str, Any], tmp_path: Path, vault: OpenBaoServer
) -> None:
    plain, in_async = code_blocks("As a component in your own program", "python")
    imports = "\n".join(line for line in plain.splitlines() if line.startswith(("import ", "from ")))
    stack_file = real_use["checkout"] / "stacks" / f"Pulumi.{STACK}.yaml"
    for index, program in enumerate((plain, f"{imports}\n\n{in_async}")):
        project = snippet_project(real_use, tmp_path / f"component-{index}", program, f"readme-component-{index}")
        shutil.copy2(stack_file, project.project_dir / "stacks" / stack_file.name)
        project.extra_env.update(VAULT_ADDR=vault.address, VAULT_TOKEN=vault.root_token)
        project.init_stack(STACK)
        # The stack file's secret was encrypted with the block's stack; this stack has its own key.
        project.run("config", "set", "--stack", STACK, "--secret", "sentry-dsn-sync:sentryToken", SENTRY_TOKEN)

        project.up(STACK, "--skip-preview")

        producer = real_use_outputs(real_use)
        assert project.outputs(STACK)["dsns"] == producer["dsns"]


def real_use_outputs(real_use: dict[str, Any]) -> dict[str, Any]:
    """The outputs of the block's stack."""
    result = subprocess.run(
        [str(toolchain_bin() / "pulumi"), "stack", "output", "--json", "--stack", STACK],
        cwd=real_use["checkout"], env=real_use["env"], check=True, capture_output=True, text=True,
    )
    outputs: dict[str, Any] = json.loads(result.stdout)
    return outputs


def test_the_stack_reference_snippet_reads_the_published_dsn(real_use: dict[str, Any], tmp_path: Path) -> None:
    (snippet,) = code_blocks("Reading the DSNs from another stack", "python")
    # A file backend names every stack `organization/<project>/<stack>`; Pulumi Cloud uses your organization.
    program = "import pulumi\n\n" + snippet.replace('"acme/sentry-dsn-sync/prod"', f'"organization/sentry-dsn-sync/{STACK}"')
    assert program.count("organization/sentry-dsn-sync/") == 1, "the snippet names the producer stack as expected"
    consumer = snippet_project(real_use, tmp_path / "consumer", program + '\npulumi.export("web", web_dsn)\n', "readme-consumer")
    consumer.init_stack("web-prod")

    consumer.up("web-prod", "--skip-preview")

    assert consumer.outputs("web-prod")["web"] == real_use_outputs(real_use)["dsns"]["web"]
