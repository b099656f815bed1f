"""The benchmark's pure helpers: the goals' arithmetic, table rendering, log and profile parsing.

No timing is asserted here; the benchmark itself (`make bench`) measures.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from bench._latency_proxy import delayed_relay
from bench._procwatch import cpu_seconds_of, role_of
from bench._run import _fastest
from bench._profile import IMPORTS, categorize, summarize
from bench._vault import count_kv_calls
from bench.floor.floor_provider import padding_fields
from bench.plan import keys_per_project_for, rotation_count, size_plan
from bench.report import (
    MachineInfo,
    SizeResult,
    StepMeasure,
    gap_table,
    goal_lines,
    growth_exponent,
    growth_table,
    growth_verdict,
    markdown_table,
    ratio,
    render_report,
    sentry_request_goal,
    spread_table,
    state_breakdown,
)


def _result(n: int, *, noop_tool: float, noop_floor: float, noop_writes: int = 0, requests: int = 4,
            first_tool: float = 2.0, first_floor: float = 2.0, rss_kb: int = 65536,
            state_tool: int = 3000, state_floor: int = 2000) -> SizeResult:
    def step(seconds: float, writes: int = 0) -> StepMeasure:
        return StepMeasure(seconds=seconds, sentry_requests=requests, vault_reads=n, vault_writes=writes,
                           vault_other=1, provider_peak_rss_kb=rss_kb, provider_cpu_seconds=0.5,
                           program_cpu_seconds=0.4, program_peak_rss_kb=2 * rss_kb)

    return SizeResult(
        projects=n, keys=n, rotated=5,
        tool={"first": step(first_tool, 2 * n), "noop": step(noop_tool, noop_writes), "preview": step(1.5),
              "rotated_up": step(1.6, 5)},
        floor={"first": step(first_floor), "noop": step(noop_floor), "preview": step(1.5), "rotated_up": step(1.6)},
        tool_state_bytes=state_tool * n, floor_state_bytes=state_floor * n, tool_provider_bytes=102,
        floor_provider_bytes=70,
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


@pytest.mark.parametrize(("n", "keys_per_project", "rotated", "noop_repeats", "checkpointed"), [
    (20, 1, 1, 4, True),        # 1% of 20 keys rounds up to one rotation
    (500, 1, 5, 4, True),
    (2000, 1, 20, 2, True),     # large: fewer no-op repeats; the checkpointed first run still compared
    (5000, 2, 100, 2, False),   # two keys per project, 1% of 10000 keys; no checkpointed first run
])
def test_size_plan_scales_the_steps_with_n(n: int, keys_per_project: int, rotated: int, noop_repeats: int,
                                           checkpointed: bool) -> None:
    plan = size_plan(n, repeat=4)
    assert (plan.keys_per_project, plan.rotated, plan.noop_repeats, plan.checkpointed_first) == (
        keys_per_project, rotated, noop_repeats, checkpointed)
    assert plan.keys == n * keys_per_project
    assert plan.first_repeats == 2, "each first run needs fresh stacks: two at every size"


def test_size_plan_follows_the_command_line_where_given() -> None:
    plan = size_plan(5000, repeat=1, keys_per_project=1, checkpointed_max=5000)
    assert (plan.keys_per_project, plan.rotated, plan.noop_repeats, plan.checkpointed_first) == (1, 50, 1, True)
    assert plan.first_repeats == 1
    assert size_plan(3, repeat=2, keys_per_project=3).rotated == 1
    assert [rotation_count(keys) for keys in (1, 100, 101, 10000)] == [1, 1, 2, 100]
    assert [keys_per_project_for(n) for n in (4999, 5000)] == [1, 2]


def test_markdown_table_has_a_separator_row_and_escapes_pipes() -> None:
    table = markdown_table(["a", "b"], [[1, "x|y"]])
    assert table.splitlines() == ["| a | b |", "|---|---|", "| 1 | x\\|y |"]


def test_goal_lines_pass_within_the_floor_ratio_and_miss_beyond_it() -> None:
    passing = goal_lines([_result(50, noop_tool=1.0, noop_floor=1.0), _result(500, noop_tool=10.9, noop_floor=10.0)])
    assert "PASS: N=500 no-op up (best floor) vs floor: 1.09x (goal <= 1.10x)" in passing
    assert not any(line.startswith("MISS") for line in passing), passing

    missing = goal_lines([_result(500, noop_tool=11.2, noop_floor=10.0, noop_writes=3, requests=13,
                                  first_tool=2.7, first_floor=2.0)])
    assert "MISS: N=500 no-op up (best floor) vs floor: 1.12x (goal <= 1.10x)" in missing
    assert "MISS: N=500 Vault writes, noop: 3 (goal 0)" in missing
    assert "MISS: N=500 Sentry requests, first: 13 (goal <= 12)" in missing
    assert "MISS: N=500 first up (best floor) vs floor: 1.35x (goal <= 1.30x)" in missing
    assert "PASS: N=500 up, 5 rotated vs floor: 1.00x (goal <= 1.15x)" in missing
    assert "PASS: N=500 Vault writes, up with 5 rotated: 5 (goal 5, one per rotated project)" in missing


def test_state_goal_is_the_floors_bytes_per_resource_plus_one_kilobyte_per_project() -> None:
    assert "PASS: N=500 state bytes per project: 3024 (goal <= 3024, the floor's 2000 + 1024)" in goal_lines(
        [_result(500, noop_tool=1.0, noop_floor=1.0, state_tool=3024)])
    assert "MISS: N=500 state bytes per project: 3025 (goal <= 3024, the floor's 2000 + 1024)" in goal_lines(
        [_result(500, noop_tool=1.0, noop_floor=1.0, state_tool=3025)])


def test_provider_memory_goal_is_150_mb_and_the_program_is_reported_beside_it() -> None:
    lines = goal_lines([_result(5000, noop_tool=1.0, noop_floor=1.0, rss_kb=151 * 1024)])
    assert "MISS: N=5000 provider peak RSS: 151 MB (goal <= 150 MB); the program's: 302 MB" in lines
    assert "PASS: N=5000 provider peak RSS: 150 MB (goal <= 150 MB); the program's: 300 MB" in goal_lines(
        [_result(5000, noop_tool=1.0, noop_floor=1.0, rss_kb=150 * 1024)])


def test_the_goal_is_measured_against_the_faster_of_the_plain_and_the_streamed_floor() -> None:
    result = _result(500, noop_tool=12.0, noop_floor=10.0)
    result = SizeResult(**{**result.__dict__, "floor": {**result.floor, "noop_streamed": StepMeasure(seconds=8.0)}})
    lines = goal_lines([result])
    assert "MISS: N=500 no-op up (best floor) vs floor: 1.50x (goal <= 1.10x)" in lines
    assert "INFO: N=500 no-op up vs the plain floor program: 1.20x, vs the streamed one: 1.50x" in lines

    near = _result(500, noop_tool=10.5, noop_floor=10.0)
    slower_streamed = SizeResult(**{**near.__dict__, "floor": {**near.floor, "noop_streamed": StepMeasure(seconds=11.0)}})
    assert "PASS: N=500 no-op up (best floor) vs floor: 1.05x (goal <= 1.10x)" in goal_lines([slower_streamed])
    machine = MachineInfo(cpus=2, cpu_model="Test CPU", date="2026-01-01 00:00 UTC", python="3.11.7", pulumi="v3")
    text = render_report([result], machine=machine, latency_ms=50, repeat=2)
    assert "| 12.00 | 10.00 | 1.20x | 8.00 | 1.50x |" in text
    assert "| - | - | - | 12.00 | 10.00 | 1.20x |" in text, "no checkpointed first run: dashes, not a failure"


def test_the_first_up_is_held_to_the_faster_floor_too() -> None:
    # The streamed floor hands each resource to the engine at once, as the tool's program does.
    result = _result(500, noop_tool=1.0, noop_floor=1.0, first_tool=3.0, first_floor=2.5)
    streamed = SizeResult(**{**result.__dict__, "floor": {**result.floor, "first_streamed": StepMeasure(seconds=2.0)}})

    lines = goal_lines([streamed])

    assert "MISS: N=500 first up (best floor) vs floor: 1.50x (goal <= 1.30x)" in lines
    assert "INFO: N=500 first up vs the plain floor program: 1.20x, vs the streamed one: 1.50x" in lines
    assert "PASS: N=500 first up (best floor) vs floor: 1.20x (goal <= 1.30x)" in goal_lines([result])
    machine = MachineInfo(cpus=2, cpu_model="Test CPU", date="2026-01-01 00:00 UTC", python="3.11.7", pulumi="v3")
    text = render_report([streamed], machine=machine, latency_ms=50, repeat=2)
    assert "| 500 | 3.00 | 2.50 | 1.20x | 2.00 | 1.50x | - | - | - |" in text


def test_the_rotation_is_set_beside_a_floor_that_carries_the_tools_state_bytes_without_moving_its_goal() -> None:
    result = _result(500, noop_tool=1.0, noop_floor=1.0)
    plain_up = StepMeasure(seconds=10.0)
    padded_up = StepMeasure(seconds=14.0)
    tool_up = StepMeasure(seconds=15.0, vault_writes=5)
    padded = SizeResult(**{**result.__dict__, "tool": {**result.tool, "rotated_up": tool_up},
                           "floor": {**result.floor, "rotated_up": plain_up, "rotated_up_padded": padded_up},
                           "padded_floor_state_bytes": 2990 * 500})

    lines = goal_lines([padded])

    assert "MISS: N=500 up, 5 rotated vs floor: 1.50x (goal <= 1.15x)" in lines, "the goal stays the plain floor's"
    assert ("INFO: N=500 up, 5 rotated vs a floor that carries the tool's state bytes (2990 B per resource): 1.07x; "
            "that floor vs the plain floor: 1.40x") in lines
    assert not any("tool's state bytes" in line for line in goal_lines([result])), "not run: no line"
    machine = MachineInfo(cpus=2, cpu_model="Test CPU", date="2026-01-01 00:00 UTC", python="3.11.7", pulumi="v3")
    text = render_report([padded], machine=machine, latency_ms=50, repeat=2)
    assert "| 15.00 | 10.00 | 1.50x | 14.00 | 1.07x |" in text
    assert "| 500 | 3000 | 2000 | 1000 | 3024 | 102 | 70 | 2990 |" in text
    assert "| 500 | 3000 | 2000 | 1000 | 3024 | 102 | 70 | - |" in render_report(
        [result], machine=machine, latency_ms=50, repeat=2)


def test_the_padded_floor_adds_the_bytes_it_is_asked_for_to_each_resource() -> None:
    fields = padding_fields(934)

    assert len(fields) == 12
    # As the state stores them: as `"padNN":"<value>",` in the inputs and in the outputs.
    stored = sum(2 * len(f'"{key}":"{value}",') for key, value in fields.items())
    assert 934 - 2 * 12 < stored <= 934
    assert padding_fields(0) == {}


SAMPLED = """
import random, threading, time

def dig(depth):
    # A new stack now and then, so the sampler keeps adding entries until the very end.
    return dig(depth - 1) if depth else sum(range(2000))

def busy():
    while True:
        dig(random.randrange(60))

for _ in range(4):
    threading.Thread(target=busy, daemon=True).start()
time.sleep(0.3)
"""


def test_the_sampler_writes_its_last_counts_while_the_sampled_threads_are_still_busy(tmp_path: Path) -> None:
    script = tmp_path / "sampled.py"
    script.write_text(SAMPLED)
    sampler = Path(__file__).resolve().parents[1] / "bench" / "_sampler.py"
    for attempt in range(5):
        out = tmp_path / f"stacks-{attempt}"
        done = subprocess.run([sys.executable, str(sampler), str(out), str(script)], capture_output=True, text=True,
                              timeout=60)
        assert done.returncode == 0, done.stderr
        lines = out.read_text().splitlines()
        assert any("sampled.py:dig" in line for line in lines)
        assert all(line.split("\t", 1)[0].isdigit() for line in lines)


def test_goal_lines_flag_a_figure_that_grows_worse_than_linearly() -> None:
    small, large = _result(50, noop_tool=1.0, noop_floor=1.0), _result(500, noop_tool=40.0, noop_floor=10.0)
    assert "MISS: no-op up time grows worse than linear, N=50 to 500 (b = 1.60; the floor's b = 1.00)" in goal_lines(
        [small, large])


def test_growth_of_a_step_measured_only_at_some_sizes_spans_the_sizes_that_measured_it() -> None:
    def with_checkpointed(result: SizeResult, tool: float, floor: float) -> SizeResult:
        return SizeResult(**{**result.__dict__,
                             "tool": {**result.tool, "first_checkpointed": StepMeasure(seconds=tool)},
                             "floor": {**result.floor, "first_checkpointed": StepMeasure(seconds=floor)}})

    results = [with_checkpointed(_result(500, noop_tool=1.0, noop_floor=1.0), 10.0, 8.0),
               with_checkpointed(_result(2000, noop_tool=4.0, noop_floor=4.0), 40.0, 32.0),
               _result(5000, noop_tool=10.0, noop_floor=10.0)]  # too large for a checkpointed first run
    table = growth_table(results)
    assert "| first up (checkpointed) time | 500 to 2000 | 10.00 | 40.00 | 1.00 | 8.00 | 32.00 | 1.00 | linear |" in table
    assert "| no-op up time | 500 to 5000 | 1.00 | 10.00 | 1.00 | 1.00 | 10.00 | 1.00 | linear |" in table


def test_sentry_requests_grow_against_the_projects_and_keys_listed_not_against_n() -> None:
    def listing(n: int, keys: int, requests: int) -> SizeResult:
        result = _result(n, noop_tool=1.0, noop_floor=1.0, requests=requests)
        return SizeResult(**{**result.__dict__, "keys": keys})

    # Two keys per project at the large size: twice the key pages, not a cost that grows worse than N.
    table = growth_table([listing(500, 500, 10), listing(5000, 10000, 150)])
    assert "| Sentry requests, first up | projects + keys: 1000 to 15000 | 10 | 150 | 1.00 |" in table
    assert "| linear |" in table.split("Sentry requests, first up")[1].splitlines()[0]


def test_the_spread_of_repeated_runs_is_reported_beside_the_best() -> None:
    result = _result(500, noop_tool=1.0, noop_floor=1.0)
    result = SizeResult(**{**result.__dict__, "tool": {**result.tool, "noop": StepMeasure(seconds=1.0,
                                                                                         repeats=(1.3, 1.0, 1.1))}})
    assert "| 500 | - | - | - | 1.00 to 1.30 (3 runs) | - | - |" in spread_table([result])
    once = SizeResult(**{**result.__dict__, "tool": {**result.tool, "noop": StepMeasure(seconds=1.0, repeats=(1.0,))}})
    assert "| 500 | - | - | - | 1.00 to 1.00 (1 run) | - | - |" in spread_table([once])
    firsts = SizeResult(**{**result.__dict__, "tool": {**result.tool, "first": StepMeasure(seconds=2.0,
                                                                                          repeats=(2.4, 2.0))}})
    assert "| 500 | 2.00 to 2.40 (2 runs) | - | - | 1.00 to 1.30 (3 runs) |" in spread_table([firsts])


def test_a_cost_that_grows_as_fast_as_the_floors_is_put_down_to_the_engine() -> None:
    # Tool and floor first ups both grow 60x for 10x the projects: b = 1.78 on both sides.
    small = _result(50, noop_tool=1.0, noop_floor=1.0, first_tool=2.0, first_floor=1.5)
    large = _result(500, noop_tool=10.0, noop_floor=10.0, first_tool=120.0, first_floor=90.0)
    lines = goal_lines([small, large])
    assert ("INFO: first up time grows worse than linear, N=50 to 500 (b = 1.78), as the floor's does (b = 1.78): "
            "the engine's cost") in lines
    assert not any(line.startswith("MISS: first up time") for line in lines)
    table = render_report([small, large], machine=MachineInfo(cpus=2, cpu_model="x", date="d", python="3", pulumi="v3"),
                          latency_ms=0, repeat=1)
    assert ("| first up time | 50 to 500 | 2.00 | 120.00 | 1.78 | 1.50 | 90.00 | 1.78 "
            "| worse than linear, as the floor's (the engine) |") in table


def test_growth_verdict_allows_slack_and_blames_the_engine_only_when_the_floor_grows_as_fast() -> None:
    assert growth_verdict(1.15) == "linear"
    assert growth_verdict(1.9, 1.8) == "worse than linear, as the floor's (the engine)"
    assert growth_verdict(1.9, 1.0) == "WORSE than linear"
    assert growth_verdict(1.9) == "WORSE than linear"


def test_report_names_the_machine_the_date_and_the_commands() -> None:
    machine = MachineInfo(cpus=2, cpu_model="Test CPU", date="2026-01-01 00:00 UTC", python="3.11.7", pulumi="v3")
    text = render_report([_result(50, noop_tool=1.0, noop_floor=1.0)], machine=machine, latency_ms=50, repeat=2)
    assert "2 CPUs, Test CPU" in text and "2026-01-01 00:00 UTC" in text
    assert "`PULUMI_SKIP_CHECKPOINTS=true pulumi up --yes --skip-preview`" in text
    assert "| 50 | 50 | 5 | 4 | 4 | - | 4 |" in text  # N, keys, rotated, goal, first, first checkpointed, no-op


def test_state_breakdown_parts_add_up_to_the_whole_export() -> None:
    state = {"deployment": {"resources": [
        {"type": "pulumi:pulumi:Stack", "custom": False, "outputs": {"dsns": {"a": "x"}}},
        {"type": "sentry-dsn-sync:index:SentryDsnSync", "custom": False, "outputs": {"dsns": {"a": "x"}}},
        {"type": "pulumi-python:dynamic/sentry-dsn-sync:ProjectDsn", "custom": True,
         "inputs": {"__provider": "pickle", "dsn": "x"}, "outputs": {"__provider": "pickle", "dsn": "x"},
         "propertyDependencies": {"dsn": []}, "sourcePosition": "project:///a.py#1",
         "stackTrace": [{"sourcePosition": "project:///a.py#1"}], "urn": "u", "created": "t", "modified": "t",
         "retainOnDelete": True},
    ]}}
    parts = state_breakdown(state, custom_type_suffix="ProjectDsn")
    assert sum(parts.values()) == len(json.dumps(state, separators=(",", ":")))
    assert parts["resource inputs"] == len('"inputs":{"dsn":"x"}')
    assert parts["resource outputs"] == len('"outputs":{"dsn":"x"}')
    assert parts["`__provider` (inputs and outputs)"] == 2 * len('"__provider":"pickle",')
    assert parts["resource propertyDependencies"] == len('"propertyDependencies":{"dsn":[]}')
    assert parts["resource sourcePosition"] == len('"sourcePosition":"project:///a.py#1"')
    assert parts["resource stackTrace"] == len('"stackTrace":[{"sourcePosition":"project:///a.py#1"}]')
    assert parts["resource identity (urn, id, type, parent, provider)"] == len(
        '"type":"pulumi-python:dynamic/sentry-dsn-sync:ProjectDsn""custom":true"urn":"u"')
    assert parts["resource created/modified"] == len('"created":"t""modified":"t"')
    assert parts["resource other fields"] == len('"retainOnDelete":true')
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
    assert role_of(b"/home/me/.pulumi/bin/pulumi\0--non-interactive\0up\0") == "engine"
    assert role_of(b"/home/me/.pulumi/bin/pulumi-language-python\0-root\0") is None
    assert role_of(b"/bin/sh\0-c\0pulumi-resource-pulumi-python\0") is None


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
    stack = ("sentry_dsn_sync/sentry/_client.py:<module>", "<frozen importlib._bootstrap>:_find_and_load",
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


def test_repeated_runs_keep_the_fastest_runs_figures_and_the_largest_request_counts() -> None:
    slow = StepMeasure(seconds=12.0, sentry_requests=61, vault_reads=2000, vault_writes=0, engine_cpu_seconds=9.0,
                       sentry_read_seconds=3.0)
    fast = StepMeasure(seconds=10.0, sentry_requests=60, vault_reads=2000, vault_writes=0, engine_cpu_seconds=7.0,
                       sentry_read_seconds=2.5)

    kept = _fastest([slow, fast])

    assert (kept.seconds, kept.engine_cpu_seconds, kept.sentry_read_seconds) == (10.0, 7.0, 2.5)
    assert (kept.sentry_requests, kept.vault_reads, kept.vault_writes) == (61, 2000, 0)
    assert kept.repeats == (12.0, 10.0)


def test_the_gap_table_sets_the_sentry_read_beside_the_extra_cpu_of_each_process() -> None:
    def run(seconds: float, provider: float, program: float, engine: float, vault: float,
            read: float | None) -> StepMeasure:
        return StepMeasure(seconds=seconds, provider_cpu_seconds=provider, program_cpu_seconds=program,
                           engine_cpu_seconds=engine, vault_server_cpu_seconds=vault, sentry_read_seconds=read)

    result = _result(5000, noop_tool=37.0, noop_floor=37.4)
    result = SizeResult(**{**result.__dict__,
                           "tool": {**result.tool, "first": run(44.8, 20.0, 25.0, 15.0, 6.0, 6.4),
                                    "noop": run(37.0, 15.0, 23.0, 12.0, 4.0, 6.5)},
                           "floor": {**result.floor, "first": run(31.0, 6.5, 25.0, 14.0, 0.1, None),
                                     "first_streamed": run(29.8, 6.0, 24.0, 13.0, 0.1, None),
                                     "noop": run(37.4, 5.0, 30.0, 12.0, 0.1, None),
                                     "noop_streamed": run(26.3, 5.5, 28.0, 11.0, 0.1, None)}})

    table = gap_table([result], cpus=2)

    lines = table.splitlines()
    assert "all CPU s (on 2 cores)" in lines[0]
    # Each step is set against the faster floor, the streamed one here.
    assert lines[2:] == [
        "| 5000 | first up (best floor) | 15.00 | 6.40 | +14.00 | +1.00 | +2.00 | 6.00 | +22.90 |",
        "| 5000 | no-op up (best floor) | 10.70 | 6.50 | +9.50 | -5.00 | +1.00 | 4.00 | +9.40 |",
    ]


def test_the_report_says_what_round_trip_the_tools_vault_requests_were_given() -> None:
    machine = MachineInfo(cpus=2, cpu_model="Test CPU", date="2026-01-01 00:00 UTC", python="3.11.7", pulumi="v3")
    result = _result(50, noop_tool=1.0, noop_floor=1.0)

    assert "no latency added (`--vault-latency-ms 0`)" in render_report([result], machine=machine, latency_ms=50,
                                                                        repeat=2)
    text = render_report([result], machine=machine, latency_ms=50, repeat=2, vault_latency_ms=20)
    assert "20 ms added to each of the tool's round trips to it (`--vault-latency-ms`)" in text


def test_the_vault_latency_relay_passes_every_byte_and_adds_its_round_trip() -> None:
    # A real HTTP server behind the relay: a large body must arrive whole, in both directions.
    body = os.urandom(300_000)

    class Echo(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received = self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(200)
            self.send_header("Content-Length", str(len(received)))
            self.end_headers()
            self.wfile.write(received)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with delayed_relay("127.0.0.1", server.server_address[1], round_trip_ms=200) as address, \
                requests.Session() as session:
            started = time.monotonic()
            answer = session.post(f"{address}/v1/echo", data=body, timeout=10)
            elapsed = time.monotonic() - started
            again = session.post(f"{address}/v1/echo", data=b"small", timeout=10)
    finally:
        server.shutdown()

    assert answer.content == body
    assert again.content == b"small", "a kept-alive connection goes on through the relay"
    assert elapsed >= 0.2, "the request waited half the round trip each way"
