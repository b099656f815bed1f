"""The benchmark's pure helpers: the goals' arithmetic, table rendering, log and profile parsing.

No timing is asserted here; the benchmark itself (`make bench`) measures.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench._procwatch import cpu_seconds_of, role_of
from bench._profile import IMPORTS, categorize, summarize
from bench._vault import count_kv_calls
from bench.report import (
    MachineInfo,
    SizeResult,
    StepMeasure,
    goal_lines,
    growth_exponent,
    growth_verdict,
    markdown_table,
    ratio,
    render_report,
    sentry_request_goal,
    state_breakdown,
)


def _result(n: int, *, noop_tool: float, noop_floor: float, noop_writes: int = 0, requests: int = 4) -> SizeResult:
    def step(seconds: float, writes: int = 0) -> StepMeasure:
        return StepMeasure(seconds=seconds, sentry_requests=requests, vault_reads=n, vault_writes=writes,
                           vault_other=1, provider_peak_rss_kb=65536, provider_cpu_seconds=0.5,
                           program_cpu_seconds=0.4)

    return SizeResult(
        projects=n, keys=n, rotated=1,
        tool={"first": step(2.0, 2 * n), "noop": step(noop_tool, noop_writes), "preview": step(1.5),
              "rotated_up": step(1.6, 1)},
        floor={"first": step(1.0), "noop": step(noop_floor), "preview": step(1.0)},
        tool_state_bytes=3000 * n, floor_state_bytes=2000 * n, tool_provider_bytes=102, floor_provider_bytes=70,
    )


@pytest.mark.parametrize(
    ("keys", "projects", "goal"),
    [(500, 500, 12), (50, 50, 4), (100, 100, 4), (101, 100, 5), (1000, 500, 17), (0, 0, 2)],
)
def test_sentry_goal_is_one_request_per_page_of_keys_and_of_projects_plus_two(keys: int, projects: int, goal: int) -> None:
    assert sentry_request_goal(keys=keys, projects=projects) == goal


def test_ratio_is_formatted_to_two_places_and_a_dash_without_a_base() -> None:
    assert ratio(13.0, 10.0) == "1.30x"
    assert ratio(1.0, 3.0) == "0.33x"
    assert ratio(1.0, 0.0) == "-"


def test_growth_exponent_tells_linear_from_quadratic_and_constant() -> None:
    assert growth_exponent(5.0, 50.0, n_small=50, n_large=500) == pytest.approx(1.0)
    assert growth_exponent(1.0, 100.0, n_small=50, n_large=500) == pytest.approx(2.0)
    assert growth_exponent(12.0, 12.0, n_small=50, n_large=500) == pytest.approx(0.0)
    assert growth_exponent(0.0, 5.0, n_small=50, n_large=500) is None
    assert [growth_verdict(b) for b in (0.3, 1.05, 1.6, None)] == ["sub-linear", "linear", "WORSE than linear", "n/a"]


def test_markdown_table_has_a_separator_row_and_escapes_pipes() -> None:
    table = markdown_table(["a", "b"], [[1, "x|y"]])
    assert table.splitlines() == ["| a | b |", "|---|---|", "| 1 | x\\|y |"]


def test_goal_lines_pass_within_the_floor_ratio_and_miss_beyond_it() -> None:
    passing = goal_lines([_result(50, noop_tool=1.2, noop_floor=1.0), _result(500, noop_tool=12.9, noop_floor=10.0)])
    assert "PASS: N=500 no-op up vs floor: 1.29x (goal <= 1.3x)" in passing
    assert not any(line.startswith("MISS") for line in passing), passing

    missing = goal_lines([_result(500, noop_tool=14.0, noop_floor=10.0, noop_writes=3, requests=13)])
    assert "MISS: N=500 no-op up vs floor: 1.40x (goal <= 1.3x)" in missing
    assert "MISS: N=500 Vault writes, no-op up: 3 (goal 0)" in missing
    assert "MISS: N=500 Sentry requests, first up: 13 (goal <= 12)" in missing


def test_the_goal_is_measured_against_the_faster_of_the_plain_and_the_streamed_floor() -> None:
    result = _result(500, noop_tool=12.0, noop_floor=10.0)
    result = SizeResult(**{**result.__dict__, "floor": {**result.floor, "noop_streamed": StepMeasure(seconds=8.0)}})
    lines = goal_lines([result])
    assert "MISS: N=500 no-op up vs floor: 1.50x (goal <= 1.3x)" in lines
    assert "INFO: N=500 no-op up vs the plain floor program: 1.20x, vs the streamed one: 1.50x" in lines

    slower_streamed = SizeResult(**{**result.__dict__, "floor": {**result.floor, "noop_streamed": StepMeasure(seconds=11.0)}})
    assert "PASS: N=500 no-op up vs floor: 1.20x (goal <= 1.3x)" in goal_lines([slower_streamed])
    machine = MachineInfo(cpus=2, cpu_model="Test CPU", date="2026-01-01 00:00 UTC", python="3.11.7", pulumi="v3")
    text = render_report([result], machine=machine, latency_ms=50, repeat=2)
    assert "| 12.00 | 10.00 | 1.20x | 8.00 | 1.50x |" in text


def test_goal_lines_flag_a_figure_that_grows_worse_than_linearly() -> None:
    small, large = _result(50, noop_tool=1.0, noop_floor=1.0), _result(500, noop_tool=40.0, noop_floor=10.0)
    assert any(line.startswith("MISS: no-op up time, tool grows worse than linear") for line in goal_lines([small, large]))


def test_report_names_the_machine_the_date_and_the_commands() -> None:
    machine = MachineInfo(cpus=2, cpu_model="Test CPU", date="2026-01-01 00:00 UTC", python="3.11.7", pulumi="v3")
    text = render_report([_result(50, noop_tool=1.0, noop_floor=1.0)], machine=machine, latency_ms=50, repeat=2)
    assert "2 CPUs, Test CPU" in text and "2026-01-01 00:00 UTC" in text
    assert "`pulumi up --yes --skip-preview`" in text and "`pulumi preview --diff`" in text
    assert "| 50 | 50 | 4 | 4 | 4 |" in text  # N, keys, goal, first, no-op


def test_state_breakdown_parts_add_up_to_the_whole_export() -> None:
    state = {"deployment": {"resources": [
        {"type": "pulumi:pulumi:Stack", "custom": False, "outputs": {"dsns": {"a": "x"}}},
        {"type": "sentry-dsn-sync:index:SentryDsnSync", "custom": False, "outputs": {"dsns": {"a": "x"}}},
        {"type": "pulumi-python:dynamic/sentry-dsn-sync:ProjectDsn", "custom": True, "inputs": {"dsn": "x"},
         "outputs": {"dsn": "x"}, "stackTrace": [{"sourcePosition": "project:///a.py#1"}], "urn": "u"},
    ]}}
    parts = state_breakdown(state, custom_type_suffix="ProjectDsn")
    assert sum(parts.values()) == len(json.dumps(state, separators=(",", ":")))
    assert parts["resource inputs"] == len('{"dsn":"x"}')
    assert parts["component outputs"] == parts["stack outputs"] == len('{"dsns":{"a":"x"}}')


def test_vault_counts_split_kv_reads_and_writes_under_the_mount_from_every_other_request() -> None:
    def entry(kind: str, operation: str, path: str) -> str:
        return json.dumps({"type": kind, "request": {"operation": operation, "path": path}})

    lines = [
        entry("request", "read", "bench-50/data/sentry/bench/p1"),
        entry("response", "read", "bench-50/data/sentry/bench/p1"),  # the same call, logged twice
        entry("request", "create", "bench-50/data/sentry/bench/p1"),
        entry("request", "patch", "bench-50/metadata/sentry/bench/p1"),
        entry("request", "read", "sys/internal/ui/mounts/bench-50"),
        entry("request", "update", "sys/capabilities-self"),
        entry("request", "read", "bench-500/data/sentry/bench/p1"),  # not this mount: not a KV read here
        "",
    ]
    counts = count_kv_calls(lines, mount="bench-50")
    assert (counts.reads, counts.writes, counts.other) == (1, 2, 3)


def test_cpu_seconds_of_a_process_are_user_plus_system_ticks(tmp_path: Path) -> None:
    (tmp_path / "42").mkdir()
    # comm may hold spaces and parentheses; utime and stime are fields 14 and 15.
    fields = ["S", "1", "1", "1", "0", "-1", "0", "0", "0", "0", "0", "250", "150"] + ["0"] * 40
    (tmp_path / "42" / "stat").write_text(f"42 (bao (server) x) {' '.join(fields)}\n")

    assert cpu_seconds_of(42, proc=tmp_path) == pytest.approx(400 / os.sysconf("SC_CLK_TCK"))


def test_process_roles_are_read_from_the_command_line() -> None:
    assert role_of(b"/venv/bin/python\0-u\0-m\0pulumi.dynamic\0127.0.0.1:1234\0") == "provider"
    assert role_of(b"python\0-u\0/bin/pulumi-language-python-exec\0--monitor\0") == "program"
    assert role_of(b"pulumi\0up\0") is None


def test_profile_summary_leaves_idle_threads_out_and_names_the_layer() -> None:
    lines = [
        "30\tthreading.py:_bootstrap;grpc/_server.py:_unary_response_in_pool;"
        "components/sentry_dsn_sync/resources/project_dsn.py:check;hvac/api/secrets_engines/kv_v2.py:read_secret_version;"
        "urllib3/connectionpool.py:urlopen",
        "10\tthreading.py:_bootstrap;pulumi/dynamic/__main__.py:get_provider;dill/_dill.py:loads",
        "500\tthreading.py:_bootstrap;threading.py:wait",
    ]
    text = summarize(lines)
    assert text.startswith("40 busy thread-samples")
    assert "| Vault HTTP (hvac/requests) | 30 | 75% |" in text
    assert "| (un)pickling `__provider` (dill) | 10 | 25% |" in text
    assert "| `sentry_dsn_sync/resources/project_dsn.py:check` | 30 | 75% |" in text
    assert "threading.py" not in text.split("function (inclusive")[1]


def test_imports_are_their_own_category_whatever_module_is_being_imported() -> None:
    stack = ("sentry_dsn_sync/sentry/client.py:<module>", "<frozen importlib._bootstrap>:_find_and_load",
             "httpx/__init__.py:<module>")
    assert categorize(stack) == IMPORTS


CHILD_REPORTS_SIGINT = """
import signal, subprocess, sys
signal.signal(signal.SIGINT, signal.SIG_IGN)  # as a non-interactive shell starts `make bench &`
if sys.argv[1] == "restore":
    from bench.__main__ import let_pulumi_stop_its_plugins
    let_pulumi_stop_its_plugins()
print(subprocess.run([sys.executable, "-c", "import signal; print(signal.getsignal(signal.SIGINT) is signal.SIG_IGN)"],
                     capture_output=True, text=True, check=True).stdout.strip())
"""


@pytest.mark.parametrize(("mode", "child_ignores_sigint"), [("restore", "False"), ("leave", "True")])
def test_commands_started_by_the_bench_get_a_working_sigint_even_when_it_was_started_ignoring_it(
    mode: str, child_ignores_sigint: str
) -> None:
    # The pulumi CLI stops a plugin with SIGINT and kills it only 5 s later, so an
    # inherited ignored SIGINT would add 5 s to every measured command.
    result = subprocess.run([sys.executable, "-c", CHILD_REPORTS_SIGINT, mode], capture_output=True, text=True,
                            check=True, cwd=Path(__file__).resolve().parents[1])
    assert result.stdout.strip() == child_ignores_sigint
