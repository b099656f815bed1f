"""The package, the simulator, the harness and the benchmark type-check under `mypy --strict`.

Settings in pyproject.toml.
"""

from __future__ import annotations

import subprocess
import sys

from devenv.pulumi_cli import REPO_ROOT

PACKAGES = ("sentry_dsn_sync", "sentry_simulator", "devenv", "bench")


def test_mypy_strict_finds_no_issue() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mypy", *(f"-p{package}" for package in PACKAGES)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
