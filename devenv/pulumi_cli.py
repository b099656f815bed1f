"""Drive the real `pulumi` CLI against a local file backend.

Used by the demo, the end-to-end tests and the benchmark, so that all three run
the engine the same way a deploy pipeline does.

Why not `pulumi.automation`: it does drive this CLI (v3.274.1), the old Python
language host and a file backend with a passphrase (a LocalWorkspace on a copy
of the program previews, updates and previews again with no changes). But its
`Stack.up` always follows the update with three more CLI calls (`stack output`
masked and with secrets, `stack history`) and refresh and destroy with one,
which the end-to-end tests and the benchmark would pay on every run and the
benchmark would measure; one LocalWorkspace holds one environment for all its
commands, where tests run single commands with another credential or address;
and tests pass the CLI's own flags and read its exit code and output, which is
what a pipeline sees. So this wrapper stays, thin: `run(...)` plus one method
per command the tests use.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["PulumiError", "PulumiProject", "REPO_ROOT", "toolchain_bin", "copy_project"]

REPO_ROOT = Path(__file__).resolve().parent.parent
# The program as checked out: the project file, the program, and the module that
# lets stacks made by release 0.1 unpickle their provider (see its docstring).
PROGRAM_FILES = ("Pulumi.yaml", "__main__.py", "components/resources/project_dsn.py")


class PulumiError(RuntimeError):
    def __init__(self, args: Sequence[str], result: subprocess.CompletedProcess[str]) -> None:
        super().__init__(
            f"pulumi {' '.join(args)} exited {result.returncode}\n"
            f"--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr}"
        )
        self.result = result


def toolchain_bin() -> Path:
    """The directory holding `pulumi` and its Python language host (built on first use)."""
    found = os.environ.get("SENTRY_DSN_SYNC_PULUMI_BIN")
    if found:
        return Path(found)
    result = subprocess.run(
        ["bash", str(REPO_ROOT / "scripts" / "toolchain.sh")],
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    )
    return Path(result.stdout.strip().splitlines()[-1])


def copy_project(destination: Path) -> Path:
    """A copy of the program in `destination`, with its own empty `stacks/`.

    Tests and benchmarks run in such a copy so that the stack config files they
    write never land in the repository.
    """
    destination.mkdir(parents=True, exist_ok=True)
    for name in PROGRAM_FILES:
        (destination / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO_ROOT / name, destination / name)
    venv = Path(sys.prefix)
    text = (destination / "Pulumi.yaml").read_text()
    (destination / "Pulumi.yaml").write_text(text.replace("virtualenv: .venv", f"virtualenv: {venv}"))
    (destination / "stacks").mkdir(exist_ok=True)
    return destination


# Linux refuses a single command-line argument longer than 128 KiB (MAX_ARG_STRLEN): the
# 5000 project slugs of the largest benchmark size do not fit into `config set-all --json`.
_LONGEST_ARGUMENT = 100_000


@dataclass
class PulumiProject:
    """One Pulumi project directory, one file backend, one passphrase."""

    project_dir: Path
    backend_dir: Path
    bin_dir: Path
    passphrase: str = "sentry-dsn-sync-local"
    extra_env: dict[str, str] = field(default_factory=dict)

    def env(self) -> dict[str, str]:
        venv_bin = Path(sys.executable).parent
        env = dict(os.environ)
        env.update(
            {
                "PATH": os.pathsep.join([str(self.bin_dir), str(venv_bin), env.get("PATH", "")]),
                "PULUMI_BACKEND_URL": self.backend_dir.resolve().as_uri(),
                "PULUMI_CONFIG_PASSPHRASE": self.passphrase,
                "PULUMI_SKIP_UPDATE_CHECK": "1",
                "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
                "PULUMI_HOME": str(self.backend_dir.resolve().parent / "pulumi-home"),
                # The language host built here predates the `virtualenv` runtime option.
                "PULUMI_PYTHON_CMD": sys.executable,
            }
        )
        env.update(self.extra_env)
        return env

    def run(
        self, *args: str, check: bool = True, env: Mapping[str, str] | None = None, stream: bool = False
    ) -> subprocess.CompletedProcess[str]:
        """Run `pulumi ARGS`; with `stream`, its output goes to the terminal as it comes."""
        self.backend_dir.mkdir(parents=True, exist_ok=True)
        full_env = self.env()
        if env:
            full_env.update(env)
        result = subprocess.run(
            [str(self.bin_dir / "pulumi"), *([] if stream else ["--non-interactive"]), *args],
            cwd=self.project_dir,
            env=full_env,
            capture_output=not stream,
            text=True,
        )
        if check and result.returncode != 0:
            raise PulumiError(args, result)
        return result

    def init_stack(self, stack: str) -> None:
        self.run("stack", "init", stack, "--secrets-provider", "passphrase")

    def select_stack(self, stack: str) -> None:
        self.run("stack", "select", stack)

    def set_config(self, stack: str, key: str, value: Any, *, secret: bool = False) -> None:
        """Set one key; lists and objects are stored as structured config."""
        if isinstance(value, (list, dict)):
            entry = {key: {"value": json.dumps(value), "objectValue": value, "secret": False}}
            text = json.dumps(entry)
            if len(text) > _LONGEST_ARGUMENT:
                self._write_config_value(stack, key, value)
                return
            self.run("config", "set-all", "--stack", stack, "--json", text)
            return
        flags = ["--secret"] if secret else ["--plaintext"]
        self.run("config", "set", "--stack", stack, *flags, key, str(value))

    def _write_config_value(self, stack: str, key: str, value: Any) -> None:
        """Put a structured value into the stack's config file itself, as `pulumi config set-all` would."""
        import yaml

        project = yaml.safe_load((self.project_dir / "Pulumi.yaml").read_text())
        path = self.project_dir / project.get("stackConfigDir", ".") / f"Pulumi.{stack}.yaml"
        document = yaml.safe_load(path.read_text()) if path.exists() else {}
        document.setdefault("config", {})[key] = value
        path.write_text(yaml.safe_dump(document, sort_keys=False))

    def up(self, stack: str, *extra: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
        return self.run("up", "--yes", "--stack", stack, *extra, **kwargs)

    def preview(self, stack: str, *extra: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
        return self.run("preview", "--diff", "--stack", stack, *extra, **kwargs)

    def refresh(self, stack: str, *extra: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
        return self.run("refresh", "--yes", "--skip-preview", "--stack", stack, *extra, **kwargs)

    def destroy(self, stack: str, *extra: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
        return self.run("destroy", "--yes", "--skip-preview", "--stack", stack, *extra, **kwargs)

    def outputs(self, stack: str) -> dict[str, Any]:
        result = self.run("stack", "output", "--json", "--show-secrets", "--stack", stack)
        outputs: dict[str, Any] = json.loads(result.stdout or "{}")
        return outputs

    def export_state(self, stack: str) -> dict[str, Any]:
        result = self.run("stack", "export", "--stack", stack)
        state: dict[str, Any] = json.loads(result.stdout)
        return state
