"""Turn the benchmark's measurements into the markdown report; pure functions only.

Kept apart from the code that runs pulumi so the arithmetic of the goals (the
Sentry request budget, ratios to the floor, growth from the smallest to the
largest N) is unit-tested without starting anything.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "MachineInfo",
    "SizeResult",
    "StepMeasure",
    "growth_exponent",
    "growth_verdict",
    "markdown_table",
    "ratio",
    "render_report",
    "sentry_request_goal",
    "state_breakdown",
    "state_table",
]

# Step names, in the order a pipeline meets them, and the CLI flags each ran with.
STEP_FLAGS: Mapping[str, str] = {
    "first": "up --yes --skip-preview",
    "noop": "up --yes --skip-preview",
    "preview": "preview --diff",
    "rotated_up": "up --yes --skip-preview",
}
NOOP_RATIO_GOAL = 1.3
STATE_BYTES_GOAL = 4096
PAGE = 100  # Sentry's largest page: the request budget is one request per page, plus two.


@dataclass(frozen=True)
class StepMeasure:
    """One pulumi command: wall time, and what the outside world saw it do (None: not measured)."""

    seconds: float
    sentry_requests: int | None = None
    vault_reads: int | None = None
    vault_writes: int | None = None
    vault_other: int | None = None
    provider_peak_rss_kb: int | None = None
    provider_cpu_seconds: float | None = None
    program_cpu_seconds: float | None = None
    # The local OpenBao's CPU during the command: a cost of this benchmark's machine, not of a real run's.
    vault_server_cpu_seconds: float | None = None


@dataclass(frozen=True)
class SizeResult:
    """Everything measured at one N. `rotated` projects changed key before `preview`/`rotated_up`."""

    projects: int
    keys: int
    rotated: int
    tool: Mapping[str, StepMeasure]
    floor: Mapping[str, StepMeasure]
    tool_state_bytes: int
    floor_state_bytes: int
    tool_provider_bytes: int
    floor_provider_bytes: int
    # Where the tool's state bytes go (see `state_breakdown`), whole stack.
    tool_state_parts: Mapping[str, int] = field(default_factory=dict)
    floor_state_parts: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class MachineInfo:
    cpus: int
    cpu_model: str
    date: str
    python: str
    pulumi: str
    notes: Sequence[str] = field(default_factory=tuple)


def _size(value: object) -> int:
    return len(json.dumps(value, separators=(",", ":")).encode())


def state_breakdown(state: Mapping[str, Any], *, custom_type_suffix: str) -> dict[str, int]:
    """Split a `pulumi stack export` into the parts that grow with N, in bytes of compact JSON.

    The per-resource parts are summed over every resource of the given type;
    `stackTrace` is what the engine records of the program's Python stack at
    registration, the same for any Python program.
    """
    parts: dict[str, int] = dict.fromkeys(
        ("resource inputs", "resource outputs", "resource stackTrace", "resource other fields",
         "component outputs", "stack outputs", "rest"), 0)
    resources = state["deployment"].get("resources", [])
    for resource in resources:
        kind = str(resource.get("type", ""))
        if kind.endswith(custom_type_suffix):
            parts["resource inputs"] += _size(resource.get("inputs", {}))
            parts["resource outputs"] += _size(resource.get("outputs", {}))
            parts["resource stackTrace"] += _size(resource.get("stackTrace", []))
            other = {k: v for k, v in resource.items() if k not in ("inputs", "outputs", "stackTrace")}
            parts["resource other fields"] += _size(other)
        elif kind == "pulumi:pulumi:Stack":
            parts["stack outputs"] += _size(resource.get("outputs", {}))
        elif not resource.get("custom", False):
            parts["component outputs"] += _size(resource.get("outputs", {}))
    parts["rest"] = max(0, _size(state) - sum(parts.values()))
    return parts


def sentry_request_goal(*, keys: int, projects: int) -> int:
    """The issue's budget: one request per page of keys and of projects, plus two."""
    return math.ceil(keys / PAGE) + math.ceil(projects / PAGE) + 2


def ratio(value: float, base: float) -> str:
    """`value / base` as `1.23x`; a dash when there is no base to divide by."""
    if base <= 0:
        return "-"
    return f"{value / base:.2f}x"


def growth_exponent(small: float, large: float, *, n_small: int, n_large: int) -> float | None:
    """b in value ~ N**b between two sizes: 1 is linear, below 1 better, above 1 worse."""
    if small <= 0 or large <= 0 or n_small <= 0 or n_large <= n_small:
        return None
    return math.log(large / small) / math.log(n_large / n_small)


def growth_verdict(exponent: float | None) -> str:
    # 0.15 of slack: two points on a shared 2-core machine cannot tell 1.1 from 1.
    if exponent is None:
        return "n/a"
    if exponent < 0.85:
        return "sub-linear"
    if exponent <= 1.15:
        return "linear"
    return "WORSE than linear"


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A GitHub markdown table; every cell is str()-ed, pipes escaped."""
    def cell(value: object) -> str:
        return str(value).replace("|", "\\|")

    lines = ["| " + " | ".join(cell(h) for h in header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def _s(step: StepMeasure | None) -> str:
    return "-" if step is None else f"{step.seconds:.2f}"


def _opt(value: object) -> str:
    return "-" if value is None else str(value)


def _mb(kb: int | None) -> str:
    return "-" if kb is None else f"{kb / 1024:.0f}"


def _cpu(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _vault(step: StepMeasure | None) -> str:
    if step is None or step.vault_reads is None:
        return "-"
    return f"{step.vault_reads} / {step.vault_writes}"


def requests_table(results: Sequence[SizeResult]) -> str:
    rows = []
    for r in results:
        t = r.tool
        rows.append([
            r.projects, r.keys, sentry_request_goal(keys=r.keys, projects=r.projects),
            _opt(t["first"].sentry_requests), _opt(t["noop"].sentry_requests),
            _opt(t["preview"].sentry_requests), _opt(t["rotated_up"].sentry_requests),
            _vault(t["first"]), _vault(t["noop"]), _vault(t["preview"]), _vault(t.get("rotated_up")),
            _opt(t["noop"].vault_other),
        ])
    return markdown_table(
        ["N", "keys", "Sentry goal", "Sentry first up", "Sentry no-op up", "Sentry preview", "Sentry up (rotated)",
         "Vault r/w first up", "Vault r/w no-op up", "Vault r/w preview", "Vault r/w up (rotated)",
         "other Vault requests (no-op up)"],
        rows,
    )


def times_table(results: Sequence[SizeResult]) -> str:
    rows = []
    for r in results:
        t, f = r.tool, r.floor
        rows.append([
            r.projects,
            _s(t["first"]), _s(f["first"]), ratio(t["first"].seconds, f["first"].seconds),
            _s(t["noop"]), _s(f["noop"]), ratio(t["noop"].seconds, f["noop"].seconds),
            *_streamed_floor_cells(r),
            _s(t["preview"]), _s(f["preview"]), ratio(t["preview"].seconds, f["preview"].seconds),
            _s(t["rotated_up"]),
        ])
    return markdown_table(
        ["N", "first up tool", "first up floor", "ratio", "no-op up tool", "no-op up floor", "ratio",
         "no-op up streamed floor", "ratio", "preview (rotated) tool", "preview floor", "ratio",
         "up (rotated) tool"],
        rows,
    )


def _streamed_floor_cells(result: SizeResult) -> list[str]:
    """The no-op up of the floor built like the tool's program (async, a loop turn per resource)."""
    streamed = result.floor.get("noop_streamed")
    if streamed is None:
        return ["-", "-"]
    return [_s(streamed), ratio(result.tool["noop"].seconds, streamed.seconds)]


def resources_table(results: Sequence[SizeResult]) -> str:
    rows = []
    for r in results:
        t, f = r.tool["noop"], r.floor["noop"]
        rows.append([
            r.projects,
            round(r.tool_state_bytes / r.projects), round(r.floor_state_bytes / r.projects),
            r.tool_provider_bytes, r.floor_provider_bytes,
            _mb(t.provider_peak_rss_kb), _mb(f.provider_peak_rss_kb),
            _cpu(t.provider_cpu_seconds), _cpu(f.provider_cpu_seconds),
            _cpu(t.program_cpu_seconds), _cpu(f.program_cpu_seconds),
            _cpu(t.vault_server_cpu_seconds),
        ])
    return markdown_table(
        ["N", "state B/project tool", "state B/resource floor", "`__provider` B tool", "`__provider` B floor",
         "provider peak RSS MB tool", "floor", "provider CPU s (no-op) tool", "floor",
         "program CPU s (no-op) tool", "floor", "Vault server CPU s (no-op) tool"],
        rows,
    )


def state_table(result: SizeResult) -> str:
    """Bytes per project of each part of the state, tool beside floor, at one N."""
    n = result.projects
    rows = [
        [part, round(result.tool_state_parts.get(part, 0) / n), round(result.floor_state_parts.get(part, 0) / n)]
        for part in result.tool_state_parts
    ]
    rows.append(["total", round(result.tool_state_bytes / n), round(result.floor_state_bytes / n)])
    return markdown_table(["part of the state", "tool B/project", "floor B/resource"], rows)


def _growth_rows(results: Sequence[SizeResult]) -> list[list[object]]:
    small, large = results[0], results[-1]
    metrics: list[tuple[str, float | None, float | None]] = [
        ("first up time, tool", small.tool["first"].seconds, large.tool["first"].seconds),
        ("first up time, floor", small.floor["first"].seconds, large.floor["first"].seconds),
        ("no-op up time, tool", small.tool["noop"].seconds, large.tool["noop"].seconds),
        ("no-op up time, floor", small.floor["noop"].seconds, large.floor["noop"].seconds),
        ("preview time, tool", small.tool["preview"].seconds, large.tool["preview"].seconds),
        ("Sentry requests, first up", small.tool["first"].sentry_requests, large.tool["first"].sentry_requests),
        ("Vault reads, no-op up", small.tool["noop"].vault_reads, large.tool["noop"].vault_reads),
        ("state bytes (whole stack), tool", small.tool_state_bytes, large.tool_state_bytes),
        ("provider peak RSS, tool", small.tool["noop"].provider_peak_rss_kb, large.tool["noop"].provider_peak_rss_kb),
        ("provider CPU, no-op, tool", small.tool["noop"].provider_cpu_seconds,
         large.tool["noop"].provider_cpu_seconds),
    ]
    rows: list[list[object]] = []
    for name, a, b in metrics:
        if a is None or b is None:
            rows.append([name, _opt(a), _opt(b), "-", "-", "n/a"])
            continue
        exponent = growth_exponent(float(a), float(b), n_small=small.projects, n_large=large.projects)
        rows.append([
            name, _num(a), _num(b), ratio(float(b), float(a)),
            "-" if exponent is None else f"{exponent:.2f}", growth_verdict(exponent),
        ])
    return rows


def _num(value: float) -> str:
    return f"{value:.2f}" if isinstance(value, float) else str(value)


def growth_table(results: Sequence[SizeResult]) -> str:
    small, large = results[0], results[-1]
    return markdown_table(
        ["metric", f"N={small.projects}", f"N={large.projects}", "growth",
         f"exponent b (N^b; N grew {large.projects / small.projects:g}x)", "verdict"],
        _growth_rows(results),
    )


def goal_lines(results: Sequence[SizeResult]) -> list[str]:
    """One line per goal of the issue, PASS or MISS, with the figure that decides it."""
    lines = []
    for r in results:
        goal = sentry_request_goal(keys=r.keys, projects=r.projects)
        for step in ("first", "noop"):
            got = r.tool[step].sentry_requests
            verdict = "PASS" if got is not None and got <= goal else "MISS"
            lines.append(f"{verdict}: N={r.projects} Sentry requests, {step} up: {got} (goal <= {goal})")
        noop_writes = r.tool["noop"].vault_writes
        lines.append(f"{'PASS' if noop_writes == 0 else 'MISS'}: N={r.projects} Vault writes, no-op up: "
                     f"{noop_writes} (goal 0)")
        rotated_writes = r.tool["rotated_up"].vault_writes
        lines.append(f"{'PASS' if rotated_writes == r.rotated else 'MISS'}: N={r.projects} Vault writes, up with "
                     f"{r.rotated} rotated: {rotated_writes} (goal {r.rotated})")
        per_project = r.tool_state_bytes / r.projects
        lines.append(f"{'PASS' if per_project <= STATE_BYTES_GOAL else 'MISS'}: N={r.projects} state bytes per "
                     f"project: {per_project:.0f} (goal <= {STATE_BYTES_GOAL})")
    large = results[-1]
    tool_noop = large.tool["noop"].seconds
    plain = large.floor["noop"].seconds
    streamed = large.floor.get("noop_streamed")
    # The floor is what the engine costs at best: the faster of the two ways of handing it N resources.
    floor = min(plain, streamed.seconds) if streamed is not None else plain
    noop = tool_noop / floor
    lines.append(f"{'PASS' if noop <= NOOP_RATIO_GOAL else 'MISS'}: N={large.projects} no-op up vs floor: "
                 f"{noop:.2f}x (goal <= {NOOP_RATIO_GOAL}x)")
    if streamed is not None:
        lines.append(f"INFO: N={large.projects} no-op up vs the plain floor program: {tool_noop / plain:.2f}x, "
                     f"vs the streamed one: {tool_noop / streamed.seconds:.2f}x")
    if len(results) > 1:
        for row in _growth_rows(results):
            if row[-1] == "WORSE than linear":
                lines.append(f"MISS: {row[0]} grows worse than linear (b = {row[4]})")
    return lines


def render_report(
    results: Sequence[SizeResult],
    *,
    machine: MachineInfo,
    latency_ms: int,
    repeat: int,
    profile: str | None = None,
) -> str:
    """The whole RESULTS.md: machine, method, the four tables, goals, growth, profile."""
    flags = "; ".join(f"{step}: `pulumi {cmd}`" for step, cmd in STEP_FLAGS.items())
    parts = [
        "# Benchmark results",
        "",
        f"- date: {machine.date}",
        f"- machine: {machine.cpus} CPUs, {machine.cpu_model}",
        f"- python {machine.python}, pulumi {machine.pulumi}",
        f"- Sentry simulator latency per request: {latency_ms} ms; no-op runs: best of {repeat}",
        f"- commands (tool and floor alike): {flags}",
        *[f"- {note}" for note in machine.notes],
        "",
        "## Goals",
        "",
        *[f"- {line}" for line in goal_lines(results)],
        "",
        "## Requests per run (Sentry: simulator counter; Vault: audit log, KV reads / writes)",
        "",
        requests_table(results),
        "",
        "## Wall time (seconds) against the floor of N no-I/O dynamic resources",
        "",
        times_table(results),
        "",
        "## State and the provider process",
        "",
        resources_table(results),
        "",
    ]
    if results[-1].tool_state_parts:
        parts += [f"### Where the state bytes go (N={results[-1].projects})", "", state_table(results[-1]), ""]
    if len(results) > 1:
        parts += [f"## Growth from N={results[0].projects} to N={results[-1].projects}", "",
                  growth_table(results), ""]
    if profile:
        parts += [profile.rstrip(), ""]
    return "\n".join(parts)
