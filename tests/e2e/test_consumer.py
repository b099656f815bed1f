"""Other stacks read the producer's outputs: the example consumer through `StackReference`, and the rotation report."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from sentry_dsn_sync.report import EXIT_OK
from devenv.pulumi_cli import REPO_ROOT, PulumiProject
from tests.e2e.stack_helpers import STACK, configure
from tests.sentry_view import newest_active_key

pytestmark = pytest.mark.e2e

CONSUMER_DIR = REPO_ROOT / "examples" / "consumer"
CONSUMER_STACK = "web-prod"


def consumer_project(producer: PulumiProject, destination: Path) -> PulumiProject:
    """A copy of examples/consumer on the producer's backend, passphrase and toolchain."""
    shutil.copytree(CONSUMER_DIR, destination, ignore=shutil.ignore_patterns("venv", "__pycache__", "Pulumi.*.yaml"))
    manifest = destination / "Pulumi.yaml"
    # This interpreter already has pulumi installed; the example's own venv is for real users.
    manifest.write_text(manifest.read_text().replace("virtualenv: venv", f"virtualenv: {sys.prefix}"))
    return PulumiProject(
        project_dir=destination,
        backend_dir=producer.backend_dir,
        bin_dir=producer.bin_dir,
        passphrase=producer.passphrase,
    )


def sentry_config(consumer: PulumiProject) -> dict[str, str]:
    config: dict[str, str] = consumer.outputs(CONSUMER_STACK)["sentryConfig"]
    return config


def test_consumer_renders_the_producers_dsn_and_follows_a_rotation_after_both_ups(
    pulumi_project: PulumiProject, simulator: Any, tmp_path: Path
) -> None:
    configure(pulumi_project, organization="acme", projects=["web", "api"])
    pulumi_project.up(STACK, "--skip-preview")
    consumer = consumer_project(pulumi_project, tmp_path / "consumer")
    consumer.init_stack(CONSUMER_STACK)
    consumer.set_config(CONSUMER_STACK, "sentry-dsn-consumer:producerStack", STACK)
    consumer.set_config(CONSUMER_STACK, "sentry-dsn-consumer:project", "web")

    consumer.up(CONSUMER_STACK, "--skip-preview")
    old_dsn = newest_active_key(simulator, "web")["dsn"]["public"]
    assert sentry_config(consumer) == {"dsn": old_dsn, "environment": CONSUMER_STACK}

    new = simulator.admin.rotate_key("acme", "web", label="Rotation 2026")
    consumer.up(CONSUMER_STACK, "--skip-preview")
    assert sentry_config(consumer)["dsn"] == old_dsn, "the consumer sees a rotation only once the producer published it"

    pulumi_project.up(STACK, "--skip-preview")
    consumer.up(CONSUMER_STACK, "--skip-preview")
    assert sentry_config(consumer) == {"dsn": new["dsn"]["public"], "environment": CONSUMER_STACK}
    assert new["dsn"]["public"] != old_dsn


def test_consumer_of_a_project_the_producer_does_not_publish_fails_naming_it(
    pulumi_project: PulumiProject, tmp_path: Path
) -> None:
    configure(pulumi_project, organization="acme", projects=["api"])
    pulumi_project.up(STACK, "--skip-preview")
    consumer = consumer_project(pulumi_project, tmp_path / "consumer")
    consumer.init_stack(CONSUMER_STACK)
    consumer.set_config(CONSUMER_STACK, "sentry-dsn-consumer:producerStack", STACK)
    consumer.set_config(CONSUMER_STACK, "sentry-dsn-consumer:project", "web")

    result = consumer.up(CONSUMER_STACK, "--skip-preview", check=False)

    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "publishes no DSN for Sentry project 'web' (it publishes: api)" in output, output


def test_report_reads_the_published_keys_of_a_real_stack_and_flags_the_silent_project(
    pulumi_project: PulumiProject, simulator: Any
) -> None:
    configure(pulumi_project, organization="acme", projects=["mobile", "worker"])
    pulumi_project.up(STACK, "--skip-preview")
    env = {**pulumi_project.env(), "SENTRY_ORG": "acme"}

    result = subprocess.run(
        [sys.executable, "-m", "sentry_dsn_sync.report", "--stack", STACK, "--cwd", str(pulumi_project.project_dir)],
        env=env,
        capture_output=True,
        text=True,
    )

    assert result.returncode == EXIT_OK, result.stderr
    mobile_key = newest_active_key(simulator, "mobile")
    mobile_row = next(line for line in result.stdout.splitlines() if line.startswith("mobile "))
    assert mobile_key["id"] in mobile_row and "SILENT since created" in mobile_row
    assert "worker " in result.stdout
    assert "demo-token" not in result.stdout + result.stderr
