"""The rotation report against the Sentry simulator: its table, the silent flag, the chart and its errors."""

from __future__ import annotations

import io
import json
import os
import struct
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from sentry_dsn_sync.config import Secret
from sentry_dsn_sync.report import (
    EXIT_ERROR,
    EXIT_OK,
    EXIT_SILENT,
    EXIT_USAGE,
    PublishedKey,
    build_report,
    main,
    parse_outputs,
)
from sentry_dsn_sync.sentry import RetryPolicy, SentryApi, SentryClient
from sentry_simulator.testing import RunningSimulator, running_simulator

SEED_PATH = Path(__file__).resolve().parents[1] / "sentry_simulator" / "seeds" / "demo.json"
REPO_ROOT = Path(__file__).resolve().parents[1]
TOKEN = "demo-token"
# 2025-10-10 12:20 UTC: after every demo key, so fixed-time reports do not depend on today.
NOW = datetime(2025, 10, 10, 12, 20, tzinfo=UTC)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def demo_seed() -> dict[str, Any]:
    """The demo seed as JSON, a private copy per test so a test can add keys to it."""
    seed: dict[str, Any] = json.loads(SEED_PATH.read_text(encoding="utf-8"))
    return seed


@pytest.fixture
def simulator(demo_seed: dict[str, Any]) -> Iterator[RunningSimulator]:
    with running_simulator(demo_seed) as sim:
        yield sim


def env_for(sim: RunningSimulator, **overrides: str) -> dict[str, str]:
    env = {"SENTRY_URL": sim.url, "SENTRY_AUTH_TOKEN": TOKEN, "SENTRY_ORG": "acme"}
    env.update(overrides)
    return {name: value for name, value in env.items() if value}


def newest_active_key(sim: RunningSimulator, project: str) -> dict[str, Any]:
    """The key the producer stack would publish, read straight from Sentry's API (the test's own view)."""
    response = httpx.get(f"{sim.url}api/0/projects/acme/{project}/keys/", headers={"Authorization": f"Bearer {TOKEN}"})
    response.raise_for_status()
    active = [key for key in response.json() if key["isActive"]]
    return max(active, key=lambda key: (key["dateCreated"], int(key["id"], 16)))


def stack_outputs(sim: RunningSimulator, projects: list[str]) -> dict[str, Any]:
    """Outputs shaped like the producer's `pulumi stack output --json`."""
    entries = {}
    for slug in projects:
        key = newest_active_key(sim, slug)
        entries[slug] = {
            "projectId": str(key["projectId"]),
            "keyId": key["id"],
            "keyLabel": key["label"],
            "dsn": key["dsn"]["public"],
            "vaultPath": f"secret/sentry/acme/{slug}",
        }
    return {"dsns": {slug: entry["dsn"] for slug, entry in entries.items()}, "projects": entries}


def write_outputs(tmp_path: Path, outputs: dict[str, Any]) -> Path:
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(outputs))
    return path


def table_rows(stdout: str) -> dict[str, list[str]]:
    """The table's rows by project, split on the column gaps."""
    lines = stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("PROJECT"))
    rows: dict[str, list[str]] = {}
    for line in lines[header + 1 :]:
        if not line.strip():
            break
        cells = [cell.strip() for cell in line.split("  ") if cell.strip()]
        rows[cells[0]] = cells
    return rows


def sentry_client(sim: RunningSimulator) -> SentryClient:
    return SentryClient(base_url=sim.url, token=Secret(TOKEN), token_source="test", retry=RetryPolicy(max_attempts=1))


def add_key(seed: dict[str, Any], project: str, *, created: str) -> None:
    """A newer active key in the seed, as a rotation at `created` leaves it."""
    (entry,) = [p for p in seed["organizations"][0]["projects"] if p["slug"] == project]
    entry["keys"].append({"label": "Rotation", "isActive": True, "dateCreated": created})


def published_now(sim: RunningSimulator, *projects: str) -> list[PublishedKey]:
    return [PublishedKey(project=p, key_id=newest_active_key(sim, p)["id"], dsn=f"dsn-of-{p}") for p in projects]


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from the IHDR chunk, which the PNG format requires to come first."""
    assert data[:8] == PNG_SIGNATURE, "not a PNG file"
    length, chunk_type = struct.unpack(">I4s", data[8:16])
    assert chunk_type == b"IHDR" and length == 13
    width, height = struct.unpack(">II", data[16:24])
    return width, height


# -- the table -----------------------------------------------------------------


def test_table_shows_each_published_key_its_creation_and_the_last_days_counts(
    simulator: RunningSimulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outputs = stack_outputs(simulator, ["web", "api", "worker"])
    code = main(["report", "--outputs", str(write_outputs(tmp_path, outputs))], env=env_for(simulator))

    out = capsys.readouterr().out
    assert code == EXIT_OK
    rows = table_rows(out)
    assert sorted(rows) == ["api", "web", "worker"]
    web = outputs["projects"]["web"]
    # web publishes its newer key, created 2025-06-01 08:30; 240 events an hour over 24 hours.
    assert rows["web"] == [
        "web", web["keyId"], "2025-06-01 08:30", str(240 * 24), "0", "ok", web["dsn"]
    ]
    assert rows["api"][2:6] == ["2024-09-15 12:00", str(600 * 24), "0", "ok"]
    assert rows["worker"][3] == str(90 * 24)
    assert "SILENT" not in out


def test_a_project_that_received_nothing_since_its_key_changed_is_flagged(
    simulator: RunningSimulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outputs = write_outputs(tmp_path, stack_outputs(simulator, ["mobile", "worker"]))
    code = main(["report", "--outputs", str(outputs)], env=env_for(simulator))

    out = capsys.readouterr().out
    rows = table_rows(out)
    assert code == EXIT_OK, "flagging is information unless --fail-on-silent asks otherwise"
    assert rows["mobile"][3:6] == ["0", "0", "SILENT since key change"]
    assert rows["worker"][5] == "ok"
    assert "SILENT: mobile received no events since the published key was created" in out


def test_fail_on_silent_turns_a_flag_into_exit_code_3_for_pipelines(
    simulator: RunningSimulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    silent = write_outputs(tmp_path, stack_outputs(simulator, ["mobile", "web"]))
    assert main(["report", "--outputs", str(silent), "--fail-on-silent"], env=env_for(simulator)) == EXIT_SILENT

    healthy = write_outputs(tmp_path, stack_outputs(simulator, ["web"]))
    assert main(["report", "--outputs", str(healthy), "--fail-on-silent"], env=env_for(simulator)) == EXIT_OK


def test_silence_counts_from_the_rotation_even_when_the_day_still_had_events(demo_seed: dict[str, Any]) -> None:
    # mobile rotated at 07:30: events until then, nothing after (its senders kept the old DSN).
    add_key(demo_seed, "mobile", created="2025-10-10T07:30:00Z")
    with running_simulator(demo_seed) as sim, sentry_client(sim) as client:
        report = build_report(SentryApi(client), "acme", published_now(sim, "mobile", "web"), now=NOW)

    mobile, web = report.projects
    assert report.since == datetime(2025, 10, 9, 13, 0, tzinfo=UTC)
    # 13:00 yesterday up to the 07:00 bucket the rotation fell into: 19 hours at 45 an hour.
    assert mobile.received == 19 * 45
    assert mobile.received_since_key_change == 0 and mobile.silent
    assert mobile.key_created == datetime(2025, 10, 10, 7, 30, tzinfo=UTC)
    assert len(mobile.hourly_received) == 24
    assert not web.silent and report.silent_projects == ("mobile",)


def test_a_key_created_this_hour_is_not_judged_yet(demo_seed: dict[str, Any]) -> None:
    add_key(demo_seed, "mobile", created="2025-10-10T12:05:00Z")
    with running_simulator(demo_seed) as sim, sentry_client(sim) as client:
        report = build_report(SentryApi(client), "acme", published_now(sim, "mobile"), now=NOW)

    (mobile,) = report.projects
    assert mobile.received_since_key_change is None
    assert not mobile.silent and mobile.flags == ()


def test_a_published_key_deactivated_or_deleted_since_is_called_out(
    simulator: RunningSimulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outputs = stack_outputs(simulator, ["web", "api"])
    simulator.admin.set_key_active("acme", "web", outputs["projects"]["web"]["keyId"], False)
    outputs["projects"]["api"]["keyId"] = "0" * 32
    code = main(["report", "--outputs", str(write_outputs(tmp_path, outputs))], env=env_for(simulator))

    rows = table_rows(capsys.readouterr().out)
    assert code == EXIT_OK
    assert rows["web"][5] == "key inactive in Sentry"
    assert rows["api"][2] == "-" and rows["api"][5] == "key not found in Sentry"


# -- the chart -------------------------------------------------------------------


def test_png_is_a_real_chart_of_sensible_size(
    simulator: RunningSimulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    chart = tmp_path / "received.png"
    outputs = write_outputs(tmp_path, stack_outputs(simulator, ["web", "api", "mobile"]))
    code = main(["report", "--outputs", str(outputs), "--png", str(chart)], env=env_for(simulator))

    assert code == EXIT_OK
    assert f"chart written to {chart}" in capsys.readouterr().out
    data = chart.read_bytes()
    assert png_size(data) == (1000, 500)
    # A blank canvas compresses to a few KB; lines, labels and a legend cannot.
    assert 15_000 < len(data) < 1_000_000


# -- errors and secrets -------------------------------------------------------------


@pytest.mark.parametrize(
    ("outputs", "env_overrides", "message"),
    [
        (
            {"projects": {"web": {"keyId": "k", "dsn": "d"}}},
            {"SENTRY_AUTH_TOKEN": ""},
            "SENTRY_AUTH_TOKEN is not set",
        ),
        ({"projects": {"web": {"keyId": "k", "dsn": "d"}}}, {"SENTRY_ORG": ""}, "pass --organization"),
        ({"dsns": {}}, {}, "no 'projects' output (outputs found: dsns)"),
        ({"projects": "[secret]"}, {}, "output 'projects' is a secret"),
        ({"projects": {}}, {}, "output 'projects' is empty"),
        ({"projects": {"web": {"dsn": "d"}}}, {}, "projects.web needs string 'keyId' and 'dsn'"),
        ({"projects": {"web": {"keyId": "k", "dsn": "d"}}}, {"SENTRY_URL": "ftp://sentry"}, "not an http(s) URL"),
    ],
    ids=["no-token", "no-organization", "no-projects-output", "secret-output", "empty", "no-key-id", "bad-url"],
)
def test_bad_settings_or_outputs_exit_2_with_a_message_saying_what_to_fix(
    simulator: RunningSimulator,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    outputs: dict[str, Any],
    env_overrides: dict[str, str],
    message: str,
) -> None:
    code = main(
        ["report", "--outputs", str(write_outputs(tmp_path, outputs))], env=env_for(simulator, **env_overrides)
    )
    captured = capsys.readouterr()
    assert code == EXIT_USAGE
    assert message in captured.err
    assert captured.out == ""


def test_outputs_that_are_not_json_name_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "outputs.json"
    broken.write_text("Current stack outputs (2):")
    code = main(["report", "--outputs", str(broken)], env={"SENTRY_AUTH_TOKEN": TOKEN, "SENTRY_ORG": "acme"})
    assert code == EXIT_USAGE
    assert f"--outputs: {broken} is not JSON" in capsys.readouterr().err


def test_a_project_unknown_to_sentry_exits_1_naming_it(
    simulator: RunningSimulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outputs = {"projects": {"gone": {"keyId": "k", "dsn": "d"}}}
    code = main(["report", "--outputs", str(write_outputs(tmp_path, outputs))], env=env_for(simulator))
    assert code == EXIT_ERROR
    assert "project 'gone' in organization 'acme'" in capsys.readouterr().err


def test_the_token_cannot_be_given_as_a_flag(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["report", "--sentry-token", "abc"], env={})
    assert exited.value.code == EXIT_USAGE
    assert "unrecognized arguments: --sentry-token" in capsys.readouterr().err


def test_the_token_never_appears_in_output_of_a_run_or_of_a_rejected_run(
    simulator: RunningSimulator, tmp_path: Path
) -> None:
    outputs = write_outputs(tmp_path, stack_outputs(simulator, ["web", "mobile"]))
    chart = tmp_path / "chart.png"
    command = [sys.executable, "-m", "sentry_dsn_sync.report", "--outputs", str(outputs)]
    base_env = {**os.environ, **env_for(simulator)}

    ok = subprocess.run([*command, "--png", str(chart)], env=base_env, cwd=REPO_ROOT, capture_output=True, text=True)
    wrong_token = "not-the-demo-token-5f3a9c"
    rejected = subprocess.run(
        command, env={**base_env, "SENTRY_AUTH_TOKEN": wrong_token}, cwd=REPO_ROOT, capture_output=True, text=True
    )

    assert ok.returncode == EXIT_OK, ok.stderr
    assert "mobile" in ok.stdout
    assert TOKEN not in ok.stdout + ok.stderr
    assert TOKEN.encode() not in chart.read_bytes()
    assert rejected.returncode == EXIT_ERROR
    assert "401" in rejected.stderr and "SENTRY_AUTH_TOKEN" in rejected.stderr, rejected.stderr
    assert wrong_token not in rejected.stdout + rejected.stderr


# -- reading a stack's outputs through the pulumi CLI --------------------------------


def fake_pulumi(bin_dir: Path, *, stdout: str, exit_code: int = 0, stderr: str = "") -> Path:
    """A `pulumi` on PATH that records its arguments and working directory, and answers as told."""
    bin_dir.mkdir()
    log = bin_dir / "calls.log"
    script = bin_dir / "pulumi"
    script.write_text(
        "#!/bin/sh\n"
        f'echo "$PWD $*" >> "{log}"\n'
        f"cat <<'EOF'\n{stdout}\nEOF\n"
        f"cat >&2 <<'EOF'\n{stderr}\nEOF\n"
        f"exit {exit_code}\n"
    )
    script.chmod(0o755)
    return log


def test_stack_outputs_are_read_with_pulumi_in_the_project_directory(
    simulator: RunningSimulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    log = fake_pulumi(tmp_path / "bin", stdout=json.dumps(stack_outputs(simulator, ["web"])))
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    project_dir = tmp_path / "producer"
    project_dir.mkdir()

    code = main(["report", "--stack", "prod", "--cwd", str(project_dir)], env=env_for(simulator))

    assert code == EXIT_OK
    assert "web" in table_rows(capsys.readouterr().out)
    assert log.read_text().strip() == f"{project_dir} stack output --json --non-interactive --stack prod"


def test_a_failing_pulumi_says_which_stack_and_what_pulumi_said(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_pulumi(tmp_path / "bin", stdout="", exit_code=255, stderr="error: no stack named 'prod' found")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")

    env = {"SENTRY_AUTH_TOKEN": TOKEN, "SENTRY_ORG": "acme"}
    code = main(["report", "--stack", "prod", "--cwd", str(tmp_path)], env=env)

    err = capsys.readouterr().err
    assert code == EXIT_USAGE
    assert "`pulumi stack output --stack prod` failed" in err
    assert "no stack named 'prod' found" in err


def test_parse_outputs_keeps_only_what_the_report_needs_in_slug_order() -> None:
    published = parse_outputs(
        {"projects": {"web": {"keyId": "k2", "dsn": "d2", "vaultPath": "p"}, "api": {"keyId": "k1", "dsn": "d1"}}},
        source="test",
    )
    assert published == (PublishedKey("api", "k1", "d1"), PublishedKey("web", "k2", "d2"))


def test_outputs_can_be_piped_in_on_standard_input(
    simulator: RunningSimulator, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(json.dumps(stack_outputs(simulator, ["billing"]))))
    code = main(["report", "--outputs", "-", "--hours", "3"], env=env_for(simulator))
    assert code == EXIT_OK
    assert table_rows(capsys.readouterr().out)["billing"][3] == str(3 * 12)
