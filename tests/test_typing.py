"""The package, the simulator and the harness type-check under `mypy --strict` (settings in pyproject.toml)."""

from __future__ import annotations

import subprocess
import sys

from devenv.pulumi_cli import REPO_ROOT


def test_mypy_strict_finds_no_issue() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "-p", "sentry_dsn_sync", "-p", "sentry_simulator", "-p", "devenv"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
