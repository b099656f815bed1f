"""A fresh copy of this checkout, as `git clone` would give it, for tests that run the repository's own commands."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from devenv.pulumi_cli import REPO_ROOT


def fresh_checkout(destination: Path) -> Path:
    """The files git tracks here, committed or not yet (untracked files that .gitignore does not hide, too)."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=REPO_ROOT, check=True, capture_output=True, text=True,
    ).stdout.split("\0")
    for name in filter(None, listed):
        source = REPO_ROOT / name
        if source.is_file():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / name)
    return destination
