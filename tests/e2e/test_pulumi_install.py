"""`pulumi install` in a fresh clone, and the project file Pulumi reads.

With a normal Pulumi install, `pulumi install` reads Pulumi.yaml's
`toolchain: pip` and `virtualenv: .venv` and installs requirements.txt there.
The Python language host that scripts/toolchain.sh builds (from sdk v3.68.0)
predates runtime options passed by the engine: it sees no `virtualenv` and
turns the project directory itself into the virtualenv. README's Toolchain
section says so and names `make setup` instead; the first test pins whichever
of the two behaviours the toolchain in use has.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from devenv.pulumi_cli import REPO_ROOT, PulumiProject, toolchain_bin
from sentry_dsn_sync import config
from tests.e2e.checkout import fresh_checkout
from tests.e2e.stack_helpers import STACK

pytestmark = pytest.mark.e2e


def built_here(bin_dir: Path) -> bool:
    """Whether the toolchain is the one scripts/toolchain.sh built (its cache), not a normal install on PATH."""
    cache = os.environ.get("SENTRY_DSN_SYNC_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "sentry-dsn-sync"
    )
    return bin_dir.resolve().is_relative_to(Path(cache).resolve())


def toolchain_section() -> str:
    readme = (REPO_ROOT / "README.md").read_text()
    return readme.split("\n## Toolchain\n", 1)[1].split("\n## ", 1)[0]


def test_pulumi_install_in_a_fresh_clone_does_what_readme_says_for_this_toolchain(tmp_path: Path) -> None:
    checkout = fresh_checkout(tmp_path / "clone")
    bin_dir = toolchain_bin()
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PULUMI_", "VIRTUAL_ENV"))}
    env.update(
        PATH=os.pathsep.join([str(bin_dir), "/usr/local/bin", "/usr/bin", "/bin"]),
        PULUMI_HOME=str(tmp_path / "pulumi-home"),
        PULUMI_SKIP_UPDATE_CHECK="1",
    )
    if built_here(bin_dir):
        # Nothing is downloaded: what is pinned here is where the virtualenv goes, not what pip fetches.
        env["PIP_NO_INDEX"] = "1"

    result = subprocess.run(
        [str(bin_dir / "pulumi"), "install"], cwd=checkout, env=env, capture_output=True, text=True, timeout=540
    )

    if built_here(bin_dir):
        assert not (checkout / ".venv").exists(), "the v3.68.0 host does not read `virtualenv: .venv`"
        assert (checkout / "pyvenv.cfg").exists(), "it makes the project directory itself the virtualenv"
        section = toolchain_section()
        assert "`pulumi install`" in section and "`make setup`" in section
    else:
        assert result.returncode == 0, result.stdout + result.stderr
        probe = [str(checkout / ".venv" / "bin" / "python"), "-c", "import pulumi, sentry_dsn_sync"]
        assert subprocess.run(probe, cwd=checkout, capture_output=True).returncode == 0


def test_requirements_txt_installs_this_project_at_the_pinned_versions() -> None:
    lines = [line for line in (REPO_ROOT / "requirements.txt").read_text().splitlines() if not line.startswith("#")]

    assert [line for line in lines if line] == ["-c constraints.txt", "-e ."]


def pulumi_yaml() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((REPO_ROOT / "Pulumi.yaml").read_text())
    return document


def test_pulumi_yaml_declares_every_top_level_key_with_a_description() -> None:
    declared = pulumi_yaml()["config"]

    assert set(declared) == set(config.TOP_LEVEL_KEYS)
    assert all(entry.get("description") for entry in declared.values())


def test_the_declared_defaults_mean_unset_so_environment_fallbacks_still_apply() -> None:
    defaults = {key: entry["default"] for key, entry in pulumi_yaml()["config"].items()}
    env = {"SENTRY_ORG": "acme", "SENTRY_URL": "https://sentry.example.com/", "SENTRY_AUTH_TOKEN": "t",
           "VAULT_ADDR": "https://vault.example.com:8200"}

    settings = config.parse_settings({**defaults, "projects": ["web"]}, env, stack="dev")

    assert (settings.organization, settings.sentry_url, settings.sentry_token_source) == (
        "acme", "https://sentry.example.com/", "environment variable SENTRY_AUTH_TOKEN"
    )
    assert settings.team is None


def test_pulumi_itself_refuses_a_value_of_the_wrong_type(pulumi_project: PulumiProject) -> None:
    pulumi_project.run("config", "set", "--stack", STACK, "--plaintext", "sentry-dsn-sync:vault", "secret")

    result = pulumi_project.preview(STACK, check=False)

    assert result.returncode != 0
    assert "configuration key 'vault' must be of type 'object'" in result.stdout + result.stderr
