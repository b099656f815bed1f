"""The wheel installs the library and the report command, nothing else, and works beside a user's own `components/`.

Built from the checkout with `pip wheel`, installed into a fresh virtualenv
with the pins of constraints.txt, and used by a Pulumi program that has a
`components` package of its own: both the program and the dynamic provider
process (which unpickles the provider by module path) must find ours.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import venv
import zipfile
from pathlib import Path
from typing import Any

import pytest

from devenv.pulumi_cli import REPO_ROOT, PulumiProject
from tests.e2e.stack_helpers import service_env

pytestmark = pytest.mark.e2e

USER_PROGRAM = '''\
import pulumi
from sentry_dsn_sync import SentryDsnSync, SentryDsnSyncArgs, load_settings

from components.naming import export_name

sync = SentryDsnSync("sentry-dsns", SentryDsnSyncArgs(settings=load_settings()))
pulumi.export(export_name("dsns"), sync.dsns)
'''


def _pip(python: Path, *args: str, cwd: Path = REPO_ROOT) -> None:
    subprocess.run([str(python), "-m", "pip", "--disable-pip-version-check", "-q", *args], cwd=cwd, check=True)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    _pip(Path(sys.executable), "wheel", "--no-deps", "--wheel-dir", str(out), str(REPO_ROOT))
    (built,) = out.glob("sentry_dsn_sync-*.whl")
    return built


@pytest.fixture(scope="module")
def fresh_venv(tmp_path_factory: pytest.TempPathFactory, wheel: Path) -> Path:
    root = tmp_path_factory.mktemp("venv") / "venv"
    venv.create(root, with_pip=True)
    python = root / "bin" / "python"
    _pip(python, "install", "-c", str(REPO_ROOT / "constraints.txt"), str(wheel))
    return root


def test_the_wheel_holds_only_the_sentry_dsn_sync_package(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    top_level = {name.split("/", 1)[0] for name in names}
    assert {name for name in top_level if not name.endswith(".dist-info")} == {"sentry_dsn_sync"}
    assert "sentry_dsn_sync/py.typed" in names
    entry_points = next(name for name in names if name.endswith("entry_points.txt"))
    assert "sentry-dsn-sync = sentry_dsn_sync.report:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


def test_the_installed_report_command_runs(fresh_venv: Path) -> None:
    result = subprocess.run([str(fresh_venv / "bin" / "sentry-dsn-sync"), "--help"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "report" in result.stdout


def test_readme_component_example_works_beside_the_users_own_components_package(
    tmp_path: Path, fresh_venv: Path, pulumi_bin: Path, simulator: Any, openbao: Any, vault_mount: str
) -> None:
    program = tmp_path / "program"
    (program / "components").mkdir(parents=True)
    (program / "components" / "__init__.py").write_text('"""The user\'s own helpers."""\n')
    (program / "components" / "naming.py").write_text("def export_name(name: str) -> str:\n    return f'acme-{name}'\n")
    (program / "__main__.py").write_text(USER_PROGRAM)
    (program / "Pulumi.yaml").write_text(
        textwrap.dedent(f"""\
            name: user-program
            runtime:
              name: python
              options:
                virtualenv: {fresh_venv}
            """)
    )
    project = PulumiProject(
        project_dir=program,
        backend_dir=tmp_path / "state",
        bin_dir=pulumi_bin,
        extra_env={
            **service_env(simulator, openbao),
            "PULUMI_PYTHON_CMD": str(fresh_venv / "bin" / "python"),
        },
    )
    project.init_stack("dev")
    project.set_config("dev", "sentry-dsn-sync:organization", "acme")
    project.set_config("dev", "sentry-dsn-sync:projects", ["web", "api"])
    project.set_config("dev", "sentry-dsn-sync:vault", {"mount": vault_mount})
    project.up("dev")
    dsns = project.outputs("dev")["acme-dsns"]
    assert set(dsns) == {"web", "api"}
    stored = openbao.client().secrets.kv.v2.read_secret_version(
        path="sentry/acme/web", mount_point=vault_mount, raise_on_deleted_version=True
    )
    assert stored["data"]["data"]["dsn"] == dsns["web"]
    # destroy runs no program: the provider process alone unpickles `sentry_dsn_sync` from the state.
    project.destroy("dev")
    metadata = openbao.client().secrets.kv.v2.read_secret_metadata(path="sentry/acme/web", mount_point=vault_mount)
    current = metadata["data"]["versions"][str(metadata["data"]["current_version"])]
    assert current["deletion_time"], "onDelete=delete soft-deletes the published version"


def test_the_fresh_venv_imports_the_wheel_not_the_checkout(fresh_venv: Path, tmp_path: Path) -> None:
    found = subprocess.run(
        [str(fresh_venv / "bin" / "python"), "-c", "import sentry_dsn_sync; print(sentry_dsn_sync.__file__)"],
        cwd=tmp_path, capture_output=True, text=True, check=True,
    ).stdout.strip()
    assert found.startswith(str(fresh_venv)), found
