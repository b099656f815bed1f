"""A command's wall time split along the engine's path, from the provider's own call times."""

from __future__ import annotations

import time
from pathlib import Path

from bench._run import _copy_floor, _set_virtualenv
from bench._timeline import StepTimeline, clocked_venv, read_timeline, timeline_table
from devenv.pulumi_cli import PulumiProject, toolchain_bin


def test_the_parts_add_up_to_the_whole_command_and_start_at_the_first_check() -> None:
    # Lines come in the order calls end, not start: the first Check is found by its start.
    calls = "\n".join([
        "Check 12.000 12.010",
        "Diff 12.010 12.020",
        "Check 10.000 12.000",
        "Check 12.020 12.030",
        "Diff 12.030 15.000",
    ])
    timeline = read_timeline(calls, started=9.0, ended=16.0)
    assert timeline == StepTimeline(until_first_check=1.0, first_check=2.0, other_calls=3.0, after_last_call=1.0,
                                    checks=3)
    assert timeline.total == 7.0
    assert timeline.per_resource_ms == 1500.0


def test_a_command_whose_provider_was_never_asked_to_check_has_no_timeline() -> None:
    assert read_timeline("", started=0.0, ended=1.0) is None
    assert read_timeline("Delete 1.0 2.0", started=0.0, ended=3.0) is None


def test_the_table_sets_each_step_of_the_tool_beside_the_floor_with_the_difference() -> None:
    tool = StepTimeline(until_first_check=1.0, first_check=4.5, other_calls=20.0, after_last_call=2.0, checks=5001)
    floor = StepTimeline(until_first_check=1.1, first_check=0.0, other_calls=19.0, after_last_call=1.0, checks=5001)
    table = timeline_table([("no-op up", tool, floor)])
    lines = table.splitlines()
    assert lines[0] == "| along the engine's path (s) | no-op up: tool | floor | tool - floor |"
    assert "| the first Check (every other resource waits behind it) | 4.50 | 0.00 | +4.50 |" in lines
    assert "| - per resource (ms) | 4.00 | 3.80 | +0.20 |" in lines
    assert "| until the provider's first Check (CLI, program and provider start) | 1.00 | 1.10 | -0.10 |" in lines
    assert lines[-1] == "| whole command | 27.50 | 21.10 | +6.40 |"


def test_the_engine_starts_the_provider_under_the_clock_and_every_call_is_timed(tmp_path: Path) -> None:
    project = PulumiProject(project_dir=_copy_floor(tmp_path / "project"), backend_dir=tmp_path / "state",
                            bin_dir=toolchain_bin(), extra_env={"PYTHONPATH": str(tmp_path / "project")})
    project.init_stack("clocked")
    project.set_config("clocked", "count", 3)
    calls = tmp_path / "calls"
    _set_virtualenv(project.project_dir, clocked_venv(tmp_path, calls_out=calls))
    started = time.time()
    project.run("up", "--yes", "--skip-preview", "--stack", "clocked")
    ended = time.time()

    records = [line.split() for line in calls.read_text().splitlines()]
    assert sorted(method for method, _, _ in records) == ["Check"] * 3 + ["Create"] * 3
    assert all(started <= float(start) <= float(end) <= ended for _, start, end in records)
    timeline = read_timeline(calls.read_text(), started=started, ended=ended)
    assert timeline is not None and timeline.checks == 3
    assert abs(timeline.total - (ended - started)) < 1e-6
