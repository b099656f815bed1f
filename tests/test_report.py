"""The rotation report against the Sentry simulator: its table, the silent flag, the chart and its errors."""

from __future__ import annotations

import io
import json
import os
import struct
import subprocess
import sys
import time
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
    EXIT_OLD_KEY_TRAFFIC,
    EXIT_SILENT,
    EXIT_USAGE,
    HOUR,
    Pacer,
    PublishedKey,
    build_report,
    main,
    parse_outputs,
)
from sentry_dsn_sync.sentry import RetryPolicy, SentryApi, SentryClient
from sentry_simulator.testing import RunningSimulator, running_simulator
from tests.sentry_view import newest_active_key, sentry_keys

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


def table_rows(stdout: str) -> dict[tuple[str, str], list[str]]:
    """The table's rows by (project, key id), split on the column gaps."""
    lines = stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("PROJECT"))
    rows: dict[tuple[str, str], list[str]] = {}
    for line in lines[header + 1 :]:
        if not line.strip():
            break
        cells = [cell.strip() for cell in line.split("  ") if cell.strip()]
        rows[(cells[0], cells[1])] = cells
    return rows


def published_row(stdout: str, project: str) -> list[str]:
    (row,) = [cells for (slug, _), cells in table_rows(stdout).items() if slug == project and cells[3] == "yes"]
    return row


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


def test_table_shows_every_active_key_with_the_published_one_marked_and_its_days_counts(
    simulator: RunningSimulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outputs = stack_outputs(simulator, ["web", "api", "worker"])
    code = main(["report", "--outputs", str(write_outputs(tmp_path, outputs))], env=env_for(simulator))

    out = capsys.readouterr().out
    assert code == EXIT_OK
    rows = table_rows(out)
    web = outputs["projects"]["web"]
    # web publishes its newer key (2025-06-01 08:30): every event of the window is on it,
    # 240 an hour for the 23 whole hours and the current hour up to now.
    published = rows[("web", web["keyId"])]
    assert published[2:5] == ["Rotation 2025-06", "yes", "2025-06-01 08:30"]
    assert 240 * 23 <= int(published[5]) <= 240 * 24 and published[5] == published[6]
    assert published[7:9] == ["0", "0"] and published[10] == "ok"
    # Its older key is still active but idle: listed, not published, nothing on it.
    (old,) = [cells for (slug, key), cells in rows.items() if slug == "web" and key != web["keyId"]]
    assert old[2:4] == ["Default", "no"] and old[5:11] == ["0", "0", "0", "0", "0", "ok"]
    # api's inactive Legacy key is not listed: only active keys and the published one.
    assert [key for slug, key in rows if slug == "api"] == [outputs["projects"]["api"]["keyId"]]
    assert f"DSN web: {web['dsn']}" in out
    assert "SILENT" not in out and "NOT YET SAFE" not in out


def test_a_published_key_that_received_nothing_since_it_was_created_is_flagged_silent(
    simulator: RunningSimulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outputs = write_outputs(tmp_path, stack_outputs(simulator, ["mobile", "worker"]))
    code = main(["report", "--outputs", str(outputs)], env=env_for(simulator))

    out = capsys.readouterr().out
    assert code == EXIT_OK, "flagging is information unless --fail-on-silent asks otherwise"
    assert published_row(out, "mobile")[5:11] == ["0", "0", "0", "0", "0", "SILENT since created"]
    assert published_row(out, "worker")[10] == "ok"
    assert "SILENT: mobile received no events since the published key was created" in out


def test_fail_on_silent_turns_a_flag_into_exit_code_3_for_pipelines(
    simulator: RunningSimulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    silent = write_outputs(tmp_path, stack_outputs(simulator, ["mobile", "web"]))
    assert main(["report", "--outputs", str(silent), "--fail-on-silent"], env=env_for(simulator)) == EXIT_SILENT

    healthy = write_outputs(tmp_path, stack_outputs(simulator, ["web"]))
    assert main(["report", "--outputs", str(healthy), "--fail-on-silent"], env=env_for(simulator)) == EXIT_OK


def test_silence_counts_from_the_rotation_while_the_old_key_had_the_days_events(demo_seed: dict[str, Any]) -> None:
    # mobile rotated at 07:00: events on the old key until then, nothing after (its senders kept a dead DSN).
    add_key(demo_seed, "mobile", created="2025-10-10T07:00:00Z")
    with running_simulator(demo_seed) as sim, sentry_client(sim) as client:
        report = build_report(SentryApi(client), "acme", published_now(sim, "mobile", "web"), now=NOW)

    mobile, web = report.projects
    assert report.since == datetime(2025, 10, 9, 13, 0, tzinfo=UTC)
    new, old = mobile.keys
    assert new.published and new.created == datetime(2025, 10, 10, 7, 0, tzinfo=UTC)
    assert new.total == 0 and new.since_created == 0 and mobile.silent
    # 13:00 yesterday up to the rotation at 07:00: 18 hours at 45 an hour, all on the old key.
    assert not old.published and old.total == 18 * 45 and old.recent == 0
    assert old.flags == () and mobile.flags == ("silent",)
    assert len(new.hourly) == 24
    assert not web.silent and report.silent_projects == ("mobile",)
    assert report.old_keys_in_use == ()


def test_a_key_created_this_hour_is_not_judged_yet(demo_seed: dict[str, Any]) -> None:
    add_key(demo_seed, "mobile", created="2025-10-10T12:05:00Z")
    with running_simulator(demo_seed) as sim, sentry_client(sim) as client:
        report = build_report(SentryApi(client), "acme", published_now(sim, "mobile"), now=NOW)

    (mobile,) = report.projects
    assert mobile.published.since_created is None
    assert not mobile.silent and mobile.published.flags == ()


def test_an_old_key_still_receiving_events_is_flagged_and_gates_with_exit_4(
    simulator: RunningSimulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outputs = stack_outputs(simulator, ["web"])
    new_id = outputs["projects"]["web"]["keyId"]
    (old_id,) = [k["id"] for k in sentry_keys(simulator, "web") if k["id"] != new_id]
    now = time.time()
    # Half the senders moved to the new key three hours ago; the rest still use the old one.
    simulator.admin.set_traffic("acme", "web", {
        old_id: [{"since": now - 30 * HOUR, "until": now - 3 * HOUR, "accepted": 100},
                 {"since": now - 3 * HOUR, "until": None, "accepted": 40, "dropped": 10}],
        new_id: [{"since": now - 3 * HOUR, "until": None, "accepted": 50, "filtered": 5}],
    })
    path = str(write_outputs(tmp_path, outputs))

    assert main(["report", "--outputs", path, "--fail-on-old-key-traffic"], env=env_for(simulator)) == 4
    out = capsys.readouterr().out
    old = table_rows(out)[("web", old_id)]
    assert old[3] == "no" and old[10] == "STILL RECEIVING"
    assert int(old[8]) > 0 and int(old[9]) > 0, "dropped events and recent traffic are both shown"
    assert table_rows(out)[("web", new_id)][10] == "ok"
    assert f"NOT YET SAFE TO DEACTIVATE: web key {old_id}" in out
    # Information only without the gate.
    assert main(["report", "--outputs", path], env=env_for(simulator)) == EXIT_OK
    capsys.readouterr()

    # The old key's senders are gone since three hours: outside the last two hours, so safe.
    simulator.admin.set_traffic("acme", "web", {
        old_id: [{"since": now - 30 * HOUR, "until": now - 3 * HOUR, "accepted": 100}],
        new_id: [{"since": now - 3 * HOUR, "until": None, "accepted": 90}],
    })
    assert main(["report", "--outputs", path, "--fail-on-old-key-traffic"], env=env_for(simulator)) == EXIT_OK
    assert table_rows(capsys.readouterr().out)[("web", old_id)][10] == "ok"
    # A longer idle window still sees its traffic.
    assert main(
        ["report", "--outputs", path, "--fail-on-old-key-traffic", "--idle-hours", "5"], env=env_for(simulator)
    ) == 4


def test_without_per_key_stats_project_totals_stand_in_and_the_output_says_so(
    simulator: RunningSimulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outputs = stack_outputs(simulator, ["web", "worker"])
    web_key = outputs["projects"]["web"]["keyId"]
    # An older self-hosted Sentry: no per-key stats endpoint for web's keys.
    simulator.admin.inject_fault(status=404, count=None, path_contains=f"/keys/{web_key}/stats/")
    path = str(write_outputs(tmp_path, outputs))

    code = main(["report", "--outputs", path, "--json"], env=env_for(simulator))

    assert code == EXIT_OK
    document = json.loads(capsys.readouterr().out)
    web, worker = document["projects"]
    assert web["statsSource"] == "project" and "per-key stats not available" in web["note"]
    assert "HTTP 404" in web["note"]
    assert 240 * 23 <= web["projectTotals"]["received"] <= 240 * 24
    assert [key["total"] for key in web["keys"]] == [None, None]
    # The old key's traffic cannot be told apart, so the deactivation gate stays shut.
    assert web["flags"] == ["traffic-unknown"]
    assert document["oldKeysInUse"] == [{"project": "web", "keyId": web["keys"][1]["keyId"]}]
    assert worker["statsSource"] == "key" and worker["note"] is None
    assert main(["report", "--outputs", path, "--fail-on-old-key-traffic"], env=env_for(simulator)) == 4
    assert "NOTE web: per-key stats not available from this Sentry (HTTP 404)" in capsys.readouterr().out


def test_json_has_one_object_per_project_and_key_with_flags(
    simulator: RunningSimulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outputs = stack_outputs(simulator, ["mobile", "web"])
    code = main(["report", "--outputs", str(write_outputs(tmp_path, outputs)), "--json"], env=env_for(simulator))

    assert code == EXIT_OK
    document = json.loads(capsys.readouterr().out)
    assert document["organization"] == "acme" and document["silentProjects"] == ["mobile"]
    mobile, web = document["projects"]
    assert mobile["flags"] == ["silent"] and mobile["keys"][0]["flags"] == ["silent"]
    assert [(k["published"], k["state"]) for k in web["keys"]] == [(True, "active"), (False, "active")]
    first = web["keys"][0]
    assert first["keyId"] == outputs["projects"]["web"]["keyId"] and first["created"] == "2025-06-01T08:30:00Z"
    assert set(first["hourly"][0]) == {"ts", "total", "accepted", "filtered", "dropped"}
    assert len(first["hourly"]) == 24 and first["total"] == sum(b["total"] for b in first["hourly"])


def test_a_published_key_deactivated_or_deleted_since_is_called_out(
    simulator: RunningSimulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outputs = stack_outputs(simulator, ["web", "api"])
    simulator.admin.set_key_active("acme", "web", outputs["projects"]["web"]["keyId"], False)
    outputs["projects"]["api"]["keyId"] = "0" * 32
    code = main(["report", "--outputs", str(write_outputs(tmp_path, outputs))], env=env_for(simulator))

    out = capsys.readouterr().out
    assert code == EXIT_OK
    assert published_row(out, "web")[10] == "key inactive in Sentry"
    api = published_row(out, "api")
    assert api[1] == "0" * 32 and api[4] == "-" and api[10] == "key not found in Sentry"


def test_pacer_spaces_calls_to_an_endpoints_budget_across_threads() -> None:
    clock = [100.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)

    pacer = Pacer(20, clock=lambda: clock[0], sleep=sleep)
    for _ in range(41):
        pacer.wait()
    # The first call goes at once; the next 40 are spaced a little over 1/20 s apart.
    assert len(slept) == 40 and 0.05 < slept[0] < 0.055
    assert 2.0 < max(slept) < 2.2
    clock[0] += 10  # after a pause, the budget is back
    slept.clear()
    pacer.wait()
    assert slept == []


def test_report_stays_inside_sentrys_key_stats_budget(demo_seed: dict[str, Any], tmp_path: Path) -> None:
    # Sentry allows 20 key-stats requests a second; here the whole API gets that budget,
    # plus one for the project's key listing.
    for index in range(30):
        add_key(demo_seed, "worker", created=f"2025-09-01T{index % 24:02d}:{index // 24:02d}:00Z")
    with running_simulator(demo_seed, rate_limit=21, rate_window=1) as sim, sentry_client(sim) as client:
        sim.admin.reset_requests()
        report = build_report(SentryApi(client), "acme", published_now(sim, "worker"), now=NOW)
        counts = sim.admin.requests()["by_path"]

    (worker,) = report.projects
    assert len(worker.keys) == 31
    # retry=1 attempt: a single 429 would have failed the report instead.
    assert sum(n for path, n in counts.items() if path.endswith("/stats/")) == 31


def test_version_and_help_name_the_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.startswith("sentry-dsn-sync 0.")
    with pytest.raises(SystemExit):
        main(["report", "--help"])
    help_text = capsys.readouterr().out
    assert "--fail-on-silent" in help_text and "--fail-on-old-key-traffic" in help_text
    assert f"  {EXIT_SILENT}  --fail-on-silent" in help_text
    assert f"  {EXIT_OLD_KEY_TRAFFIC}  --fail-on-old-key-traffic" in help_text


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
    assert png_size(data) == (1000, 700)
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
        (
            {"projects": {"web": {"keyId": "k", "dsn": "d"}}},
            {"SENTRY_URL": "ftp://sentry"},
            "--sentry-url (from SENTRY_URL): 'ftp://sentry' is not an http(s) URL",
        ),
        ({"projects": {"web": {"keyId": "k", "dsn": "d"}}}, {"SENTRY_ORG": "Acme Inc"}, "is not a Sentry slug"),
    ],
    ids=[
        "no-token", "no-organization", "no-projects-output", "secret-output", "empty", "no-key-id", "bad-url",
        "bad-organization",
    ],
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
    assert published_row(capsys.readouterr().out, "web")[3] == "yes"
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
    # The last three hours, the current one up to now: at 12 an hour, between 24 and 36 events.
    assert 2 * 12 <= int(published_row(capsys.readouterr().out, "billing")[5]) <= 3 * 12


def test_report_flags_follow_the_stack_configs_rules_and_messages_name_the_flag(
    simulator: RunningSimulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outputs = write_outputs(tmp_path, {"projects": {"web": {"keyId": "k", "dsn": "d"}}})
    code = main(
        ["report", "--outputs", str(outputs), "--sentry-url", "https://user:pw@sentry.example.com/",
         "--organization", "1234"],
        env=env_for(simulator),
    )
    err = capsys.readouterr().err
    assert code == EXIT_USAGE
    assert "--sentry-url: 'https://user:***@sentry.example.com/' carries credentials" in err
    assert "--organization: '1234' is not a Sentry slug" in err
    assert "sentryUrl" not in err and "pw" not in err
