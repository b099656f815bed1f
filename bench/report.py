"""Turn the benchmark's measurements into the markdown report; pure functions only.

Kept apart from the code that runs pulumi so the arithmetic of the goals (the
Sentry request budget, ratios to the floor, growth from the smallest to the
largest N) is unit-tested without starting anything.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bench.plan import FIRST_REPEATS

__all__ = [
    "MachineInfo",
    "SizeResult",
    "StepMeasure",
    "best_floor",
    "growth_exponent",
    "growth_table",
    "growth_verdict",
    "markdown_table",
    "padded",
    "ratio",
    "render_report",
    "sentry_request_goal",
    "spread_table",
    "state_breakdown",
    "state_table",
    "streamed",
]

SKIP_CHECKPOINTS = "PULUMI_SKIP_CHECKPOINTS=true"
# Step names, in the order a pipeline meets them, and the CLI command each ran (tool and floor alike).
STEP_FLAGS: Mapping[str, str] = {
    "first": f"{SKIP_CHECKPOINTS} pulumi up --yes --skip-preview",
    "first_checkpointed": "pulumi up --yes --skip-preview (fresh stacks, checkpoint after every step)",
    "noop": "pulumi up --yes --skip-preview",
    "preview": "pulumi preview --diff (1% of the keys rotated; the floor: as many resources changed)",
    "rotated_up": "pulumi up --yes --skip-preview (the same change)",
}
# Steps the streamed floor runs too: their goals are held to the faster of the two floors.
STREAMED_STEPS = ("first", "noop")
# The tool's steps that talk to Sentry, each held to the request budget.
SENTRY_STEPS = ("first", "first_checkpointed", "noop", "preview", "rotated_up")
NOOP_RATIO_GOAL = 1.10
FIRST_RATIO_GOAL = 1.30
ROTATION_RATIO_GOAL = 1.15
STATE_EXTRA_BYTES_GOAL = 1024  # per project, above the floor's bytes per resource
PROVIDER_RSS_GOAL_MB = 150
PAGE = 100  # Sentry's largest page: the request budget is one request per page, plus two.
# Two end points on a shared 2-core machine cannot tell b = 1.1 from 1.
GROWTH_SLACK = 0.15


def streamed(step: str) -> str:
    """The key of the streamed floor's measure of `step` among a size's floor steps."""
    return f"{step}_streamed"


def padded(step: str) -> str:
    """The key of the measure of `step` by the floor that carries the tool's state bytes (see bench/floor)."""
    return f"{step}_padded"


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
    # The `pulumi` CLI process: the engine, its display and the state's saves.
    engine_cpu_seconds: float | None = None
    # From the command's first Sentry request to Sentry's last answer, as the simulator saw them.
    sentry_read_seconds: float | None = None
    program_peak_rss_kb: int | None = None
    # Wall time of each of the repeated runs `seconds` is the best of (empty: run once).
    repeats: tuple[float, ...] = ()


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
    # The whole stack of the floor padded to the tool's bytes per resource (0: not run).
    padded_floor_state_bytes: int = 0
    # Wall time of every step at this N together (simulator start and stack setup included).
    run_seconds: float = 0.0


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


def _entry(key: str, value: object) -> int:
    """Bytes of `"key":value` inside an object, as compact JSON writes it."""
    return _size({key: value}) - 2


# Fields of a resource in state, grouped as the breakdown reports them.
_IDENTITY = ("urn", "id", "type", "custom", "parent", "provider")
_TIMESTAMPS = ("created", "modified")
PROVIDER_KEY = "__provider"


def state_breakdown(state: Mapping[str, Any], *, custom_type_suffix: str) -> dict[str, int]:
    """Split a `pulumi stack export` into the parts that grow with N, in bytes of compact JSON.

    The per-resource parts are summed over every resource of the given type.
    `__provider` (the pickled dynamic provider, in inputs and in outputs) is
    counted apart from the other inputs and outputs; `stackTrace` and
    `sourcePosition` are what the engine records of the program's Python
    stack at registration, the same for any Python program. `rest` is
    everything else (the stack and provider resources, JSON punctuation).
    """
    parts: dict[str, int] = dict.fromkeys(
        ("resource inputs", "resource outputs", "`__provider` (inputs and outputs)", "resource stackTrace",
         "resource sourcePosition", "resource propertyDependencies", "resource dependencies",
         "resource identity (urn, id, type, parent, provider)", "resource created/modified",
         "resource other fields", "component outputs", "stack outputs", "rest"), 0)
    resources = state["deployment"].get("resources", [])
    for resource in resources:
        kind = str(resource.get("type", ""))
        if kind.endswith(custom_type_suffix):
            for side in ("inputs", "outputs"):
                values = resource.get(side, {})
                parts[f"resource {side}"] += _entry(side, {k: v for k, v in values.items() if k != PROVIDER_KEY})
                if PROVIDER_KEY in values:
                    parts["`__provider` (inputs and outputs)"] += _entry(PROVIDER_KEY, values[PROVIDER_KEY]) + 1
            for key, value in resource.items():
                if key not in ("inputs", "outputs"):
                    parts[_resource_part(key)] += _entry(key, value)
        elif kind == "pulumi:pulumi:Stack":
            parts["stack outputs"] += _size(resource.get("outputs", {}))
        elif not resource.get("custom", False):
            parts["component outputs"] += _size(resource.get("outputs", {}))
    parts["rest"] = max(0, _size(state) - sum(parts.values()))
    return parts


def _resource_part(key: str) -> str:
    if key in ("stackTrace", "sourcePosition", "propertyDependencies", "dependencies"):
        return f"resource {key}"
    if key in _IDENTITY:
        return "resource identity (urn, id, type, parent, provider)"
    if key in _TIMESTAMPS:
        return "resource created/modified"
    return "resource other fields"


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


WORSE = "WORSE than linear"
AS_FLOOR = "worse than linear, as the floor's (the engine)"


def growth_verdict(exponent: float | None, floor_exponent: float | None = None) -> str:
    """Linear within GROWTH_SLACK; a cost worse than linear is the engine's when the floor's grows as fast."""
    if exponent is None:
        return "n/a"
    if exponent < 1 - GROWTH_SLACK:
        return "sub-linear"
    if exponent <= 1 + GROWTH_SLACK:
        return "linear"
    if floor_exponent is not None and exponent <= floor_exponent + GROWTH_SLACK:
        return AS_FLOOR
    return WORSE


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


def _ratio_of(tool: StepMeasure | None, floor: StepMeasure | None) -> str:
    if tool is None or floor is None:
        return "-"
    return ratio(tool.seconds, floor.seconds)


def _sentry(step: StepMeasure | None) -> str:
    return "-" if step is None else _opt(step.sentry_requests)


def requests_table(results: Sequence[SizeResult]) -> str:
    rows = []
    for r in results:
        t = r.tool
        rows.append([
            r.projects, r.keys, r.rotated, sentry_request_goal(keys=r.keys, projects=r.projects),
            _sentry(t.get("first")), _sentry(t.get("first_checkpointed")), _sentry(t.get("noop")),
            _sentry(t.get("preview")), _sentry(t.get("rotated_up")),
            _vault(t.get("first")), _vault(t.get("noop")), _vault(t.get("preview")), _vault(t.get("rotated_up")),
            _opt(t["noop"].vault_other),
        ])
    return markdown_table(
        ["N", "keys", "rotated", "Sentry goal", "Sentry first up", "Sentry first up (checkpointed)",
         "Sentry no-op up", "Sentry preview", "Sentry up (rotated)", "Vault r/w first up", "Vault r/w no-op up",
         "Vault r/w preview", "Vault r/w up (rotated)", "other Vault requests (no-op up)"],
        rows,
    )


def times_table(results: Sequence[SizeResult]) -> str:
    rows = []
    for r in results:
        t, f = r.tool, r.floor
        row: list[object] = [r.projects]
        for step in ("first", "first_checkpointed", "noop"):
            row += [_s(t.get(step)), _s(f.get(step)), _ratio_of(t.get(step), f.get(step))]
            if step in STREAMED_STEPS:
                row += [_s(f.get(streamed(step))), _ratio_of(t.get(step), f.get(streamed(step)))]
        for step in ("preview", "rotated_up"):
            row += [_s(t.get(step)), _s(f.get(step)), _ratio_of(t.get(step), f.get(step))]
        row += [_s(f.get(padded("rotated_up"))), _ratio_of(t.get("rotated_up"), f.get(padded("rotated_up")))]
        rows.append(row)
    return markdown_table(
        ["N", "first up tool", "first up floor", "ratio", "first up streamed floor", "ratio",
         "first up, checkpointed, tool", "floor", "ratio",
         "no-op up tool", "no-op up floor", "ratio", "no-op up streamed floor", "ratio",
         "preview (rotated) tool", "preview floor", "ratio", "up (rotated) tool", "up floor", "ratio",
         "up (rotated) floor with the tool's bytes", "ratio"],
        rows,
    )


def spread(step: StepMeasure | None) -> str:
    """The repeated runs of a step as `best to worst (k runs)`."""
    if step is None or not step.repeats:
        return "-"
    runs = len(step.repeats)
    return f"{min(step.repeats):.2f} to {max(step.repeats):.2f} ({runs} run{'s' if runs > 1 else ''})"


def spread_table(results: Sequence[SizeResult]) -> str:
    rows = [[r.projects, spread(r.tool.get("first")), spread(r.floor.get("first")),
             spread(r.floor.get(streamed("first"))), spread(r.tool.get("noop")), spread(r.floor.get("noop")),
             spread(r.floor.get(streamed("noop")))]
            for r in results]
    return markdown_table(["N", "first up tool", "first up floor", "first up streamed floor", "no-op up tool",
                           "no-op up floor", "no-op up streamed floor"], rows)


def peak_rss_kb(steps: Mapping[str, StepMeasure], role: str) -> int | None:
    """The highest peak RSS of the `provider` or `program` process over every step of one side."""
    attribute = f"{role}_peak_rss_kb"
    peaks = [getattr(step, attribute) for step in steps.values() if getattr(step, attribute) is not None]
    return max(peaks, default=None)


def memory_table(results: Sequence[SizeResult]) -> str:
    rows = []
    for r in results:
        t, f = r.tool["noop"], r.floor["noop"]
        rows.append([
            r.projects,
            _mb(peak_rss_kb(r.tool, "provider")), _mb(peak_rss_kb(r.floor, "provider")),
            _mb(peak_rss_kb(r.tool, "program")), _mb(peak_rss_kb(r.floor, "program")),
            _cpu(t.provider_cpu_seconds), _cpu(f.provider_cpu_seconds),
            _cpu(t.program_cpu_seconds), _cpu(f.program_cpu_seconds),
            _cpu(t.engine_cpu_seconds), _cpu(f.engine_cpu_seconds),
            _cpu(t.vault_server_cpu_seconds),
        ])
    return markdown_table(
        ["N", "provider peak RSS MB tool", "floor", "program peak RSS MB tool", "floor",
         "provider CPU s (no-op) tool", "floor", "program CPU s (no-op) tool", "floor",
         "engine CPU s (no-op) tool", "floor", "Vault server CPU s (no-op) tool"],
        rows,
    )


def _cpu_total(step: StepMeasure) -> float | None:
    """CPU seconds of every process the run is measured by: provider, program, engine and Vault server."""
    parts = (step.provider_cpu_seconds, step.program_cpu_seconds, step.engine_cpu_seconds)
    if any(part is None for part in parts):
        return None
    return sum(part for part in parts if part is not None) + (step.vault_server_cpu_seconds or 0.0)


def _delta(tool: float | None, floor: float | None) -> str:
    return "-" if tool is None or floor is None else f"{tool - floor:+.2f}"


def gap_table(results: Sequence[SizeResult], *, cpus: int) -> str:
    """The tool's time above the floor beside its two measured causes: the Sentry read and extra CPU.

    The first check waits for the whole Sentry read, so that read is added to
    the run as it is. Extra CPU (every process of the tool's run against the
    floor's) costs about its seconds divided by the machine's cores when the
    cores are busy, which they are in both runs.
    """
    rows = []
    for r in results:
        steps = [("first up (best floor)", r.tool.get("first"), best_floor(r, "first")),
                 ("no-op up (best floor)", r.tool.get("noop"), best_floor(r, "noop"))]
        for label, tool, floor in steps:
            if tool is None or floor is None:
                continue
            rows.append([
                r.projects, label, f"{tool.seconds - floor.seconds:.2f}", _cpu(tool.sentry_read_seconds),
                _delta(tool.provider_cpu_seconds, floor.provider_cpu_seconds),
                _delta(tool.program_cpu_seconds, floor.program_cpu_seconds),
                _delta(tool.engine_cpu_seconds, floor.engine_cpu_seconds),
                _cpu(tool.vault_server_cpu_seconds),
                _delta(_cpu_total(tool), _cpu_total(floor)),
            ])
    return markdown_table(
        ["N", "step", "tool minus floor, s", "Sentry read, s", "provider CPU s", "program CPU s", "engine CPU s",
         "Vault server CPU s", f"all CPU s (on {cpus} cores)"],
        rows,
    )


def state_goal_bytes(result: SizeResult) -> float:
    """The floor's bytes per resource plus 1 KB: what one project may cost in state."""
    return result.floor_state_bytes / result.projects + STATE_EXTRA_BYTES_GOAL


def state_size_table(results: Sequence[SizeResult]) -> str:
    rows = [
        [r.projects, round(r.tool_state_bytes / r.projects), round(r.floor_state_bytes / r.projects),
         round((r.tool_state_bytes - r.floor_state_bytes) / r.projects), round(state_goal_bytes(r)),
         r.tool_provider_bytes, r.floor_provider_bytes,
         round(r.padded_floor_state_bytes / r.projects) if r.padded_floor_state_bytes else "-"]
        for r in results
    ]
    return markdown_table(
        ["N", "state B/project tool", "state B/resource floor", "difference", "goal (floor + 1024)",
         "`__provider` B tool", "`__provider` B floor", "B/resource of the floor with the tool's bytes"],
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


def run_time_table(results: Sequence[SizeResult]) -> str:
    """How long the benchmark itself spent per N: what sizes a run can afford."""
    return markdown_table(["N", "keys", "whole size, s (every step, setup included)"],
                          [[r.projects, r.keys, f"{r.run_seconds:.0f}"] for r in results])


def _seconds(side: Mapping[str, StepMeasure], step: str) -> float | None:
    measure = side.get(step)
    return None if measure is None else measure.seconds


Pair = tuple[float | None, float | None]  # (tool, floor) at one N; None: not measured there


def _step_pair(step: str) -> Callable[[SizeResult], Pair]:
    return lambda r: (_seconds(r.tool, step), _seconds(r.floor, step))


def _rss_pair(role: str) -> Callable[[SizeResult], Pair]:
    return lambda r: (peak_rss_kb(r.tool, role), peak_rss_kb(r.floor, role))


# Every cost of the growth table: its name and how to read it, tool beside floor, from one N's result.
COSTS: Sequence[tuple[str, Callable[[SizeResult], Pair]]] = (
    ("first up time", _step_pair("first")),
    ("first up (checkpointed) time", _step_pair("first_checkpointed")),
    ("no-op up time", _step_pair("noop")),
    ("preview (1% rotated) time", _step_pair("preview")),
    ("up (1% rotated) time", _step_pair("rotated_up")),
    ("state bytes (whole stack)", lambda r: (r.tool_state_bytes, r.floor_state_bytes)),
    ("provider peak RSS (kB)", _rss_pair("provider")),
    ("program peak RSS (kB)", _rss_pair("program")),
    ("provider CPU, no-op", lambda r: (r.tool["noop"].provider_cpu_seconds, r.floor["noop"].provider_cpu_seconds)),
    ("Sentry requests, first up", lambda r: (r.tool["first"].sentry_requests if "first" in r.tool else None, None)),
    ("Vault reads, no-op up", lambda r: (r.tool["noop"].vault_reads, None)),
)
# What a cost grows against when it is not N: Sentry's pages list projects and keys, and
# the largest size has two keys per project, so requests per N would double for nothing.
SCALES: Mapping[str, tuple[str, Callable[[SizeResult], int]]] = {
    "Sentry requests, first up": ("projects + keys", lambda r: r.projects + r.keys),
}


def _exponent(a: float | None, b: float | None, n_small: int, n_large: int) -> float | None:
    if a is None or b is None:
        return None
    return growth_exponent(float(a), float(b), n_small=n_small, n_large=n_large)


def _b(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _num(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.2f}" if isinstance(value, float) else str(value)


def _growth_rows(results: Sequence[SizeResult]) -> list[list[object]]:
    """Per cost, between the smallest and the largest N that measured it: the tool's two values and
    exponent, the floor's beside them, and the verdict."""
    rows: list[list[object]] = []
    for name, read in COSTS:
        scale_name, scale = SCALES.get(name, ("N", lambda r: r.projects))
        measured = [(scale(r), read(r)) for r in results if read(r)[0] is not None]
        if len(measured) < 2:
            rows.append([name, "-", "-", "-", "-", "-", "-", "-", "n/a"])
            continue
        (n_small, (tool_a, floor_a)), (n_large, (tool_b, floor_b)) = measured[0], measured[-1]
        tool_exp = _exponent(tool_a, tool_b, n_small, n_large)
        floor_exp = _exponent(floor_a, floor_b, n_small, n_large)
        span = f"{n_small} to {n_large}" if scale_name == "N" else f"{scale_name}: {n_small} to {n_large}"
        rows.append([name, span, _num(tool_a), _num(tool_b), _b(tool_exp),
                     _num(floor_a), _num(floor_b), _b(floor_exp), growth_verdict(tool_exp, floor_exp)])
    return rows


def growth_table(results: Sequence[SizeResult]) -> str:
    return markdown_table(
        ["cost", "from N to N", "tool, small N", "tool, large N", "tool b", "floor, small N", "floor, large N",
         "floor b", "verdict"],
        _growth_rows(results),
    )


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def _ratio_goal(label: str, n: int, tool: StepMeasure | None, floor: StepMeasure | None, goal: float) -> list[str]:
    if tool is None or floor is None or floor.seconds <= 0:
        return []
    value = tool.seconds / floor.seconds
    return [f"{_verdict(value <= goal)}: N={n} {label} vs floor: {value:.2f}x (goal <= {goal:.2f}x)"]


def _request_goals(r: SizeResult) -> list[str]:
    lines = []
    goal = sentry_request_goal(keys=r.keys, projects=r.projects)
    for step in SENTRY_STEPS:
        if step in r.tool:
            got = r.tool[step].sentry_requests
            lines.append(f"{_verdict(got is not None and got <= goal)}: N={r.projects} Sentry requests, "
                         f"{step}: {got} (goal <= {goal})")
    for step in ("noop", "preview"):
        if step in r.tool:
            writes = r.tool[step].vault_writes
            lines.append(f"{_verdict(writes == 0)}: N={r.projects} Vault writes, {step}: {writes} (goal 0)")
    rotated_writes = r.tool["rotated_up"].vault_writes
    lines.append(f"{_verdict(rotated_writes == r.rotated)}: N={r.projects} Vault writes, up with {r.rotated} "
                 f"rotated: {rotated_writes} (goal {r.rotated}, one per rotated project)")
    return lines


def best_floor(result: SizeResult, step: str) -> StepMeasure | None:
    """What the engine costs at best for `step`: the faster of the two ways of handing it N resources."""
    measured = [m for m in (result.floor.get(step), result.floor.get(streamed(step))) if m is not None]
    return min(measured, key=lambda m: m.seconds, default=None)


def _best_floor_goal(r: SizeResult, step: str, label: str, goal: float) -> list[str]:
    """The goal against the faster floor, and the ratio to each floor beside it when both ran."""
    tool, plain, streamed_floor = r.tool.get(step), r.floor.get(step), r.floor.get(streamed(step))
    lines = _ratio_goal(f"{label} (best floor)", r.projects, tool, best_floor(r, step), goal)
    if tool is not None and plain is not None and streamed_floor is not None:
        lines.append(f"INFO: N={r.projects} {label} vs the plain floor program: {tool.seconds / plain.seconds:.2f}x, "
                     f"vs the streamed one: {tool.seconds / streamed_floor.seconds:.2f}x")
    return lines


def _time_goals(r: SizeResult) -> list[str]:
    n, t, f = r.projects, r.tool, r.floor
    lines = _best_floor_goal(r, "noop", "no-op up", NOOP_RATIO_GOAL)
    lines += _best_floor_goal(r, "first", "first up", FIRST_RATIO_GOAL)
    lines += _ratio_goal("first up (checkpointed)", n, t.get("first_checkpointed"), f.get("first_checkpointed"),
                         FIRST_RATIO_GOAL)
    lines += _ratio_goal(f"preview --diff, {r.rotated} rotated", n, t.get("preview"), f.get("preview"),
                         ROTATION_RATIO_GOAL)
    lines += _ratio_goal(f"up, {r.rotated} rotated", n, t.get("rotated_up"), f.get("rotated_up"),
                         ROTATION_RATIO_GOAL)
    tool_up, plain_up, padded_up = t.get("rotated_up"), f.get("rotated_up"), f.get(padded("rotated_up"))
    if tool_up is not None and plain_up is not None and padded_up is not None and r.padded_floor_state_bytes:
        # Not a goal: how much of the rotation's ratio is the engine saving the tool's larger state.
        lines.append(f"INFO: N={n} up, {r.rotated} rotated vs a floor that carries the tool's state bytes "
                     f"({r.padded_floor_state_bytes / n:.0f} B per resource): "
                     f"{tool_up.seconds / padded_up.seconds:.2f}x; that floor vs the plain floor: "
                     f"{padded_up.seconds / plain_up.seconds:.2f}x")
    return lines


def _resource_goals(r: SizeResult) -> list[str]:
    per_project = r.tool_state_bytes / r.projects
    goal = state_goal_bytes(r)
    lines = [f"{_verdict(per_project <= goal)}: N={r.projects} state bytes per project: {per_project:.0f} "
             f"(goal <= {goal:.0f}, the floor's {r.floor_state_bytes / r.projects:.0f} + {STATE_EXTRA_BYTES_GOAL})"]
    provider = peak_rss_kb(r.tool, "provider")
    if provider is not None:
        program = peak_rss_kb(r.tool, "program")
        lines.append(f"{_verdict(provider <= PROVIDER_RSS_GOAL_MB * 1024)}: N={r.projects} provider peak RSS: "
                     f"{_mb(provider)} MB (goal <= {PROVIDER_RSS_GOAL_MB} MB); the program's: {_mb(program)} MB")
    return lines


def goal_lines(results: Sequence[SizeResult]) -> list[str]:
    """One line per goal of the issue, PASS or MISS, with the figure that decides it."""
    lines = []
    for r in results:
        lines += _request_goals(r) + _time_goals(r) + _resource_goals(r)
    if len(results) > 1:
        for row in _growth_rows(results):
            if row[-1] == WORSE:
                lines.append(f"MISS: {row[0]} grows worse than linear, N={row[1]} (b = {row[4]}; "
                             f"the floor's b = {row[7]})")
            elif row[-1] == AS_FLOOR:
                lines.append(f"INFO: {row[0]} grows worse than linear, N={row[1]} (b = {row[4]}), as the floor's "
                             f"does (b = {row[7]}): the engine's cost")
    return lines


def render_report(
    results: Sequence[SizeResult],
    *,
    machine: MachineInfo,
    latency_ms: int,
    repeat: int,
    vault_latency_ms: int = 0,
    profile: str | None = None,
) -> str:
    """The whole RESULTS.md: machine, method, goals, the tables, growth, profile."""
    parts = [
        "# Benchmark results",
        "",
        f"- date: {machine.date}",
        f"- machine: {machine.cpus} CPUs, {machine.cpu_model}",
        f"- python {machine.python}, pulumi {machine.pulumi}",
        f"- Sentry simulator latency per request: {latency_ms} ms; no-op runs: best of {repeat} "
        f"(fewer at the large sizes, see bench/README.md); first runs: best of {min(repeat, FIRST_REPEATS)}",
        "- Vault: a local OpenBao dev server with a file audit device; "
        + (f"{vault_latency_ms} ms added to each of the tool's round trips to it (`--vault-latency-ms`)"
           if vault_latency_ms else "no latency added (`--vault-latency-ms 0`)"),
        "- commands (tool and floor alike):",
        *[f"  - {step}: `{cmd}`" for step, cmd in STEP_FLAGS.items()],
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
        "### Spread of the repeated runs (seconds; the tables above take the best)",
        "",
        spread_table(results),
        "",
        "## State",
        "",
        state_size_table(results),
        "",
    ]
    if results[-1].tool_state_parts:
        parts += [f"### Where the state bytes go (N={results[-1].projects})", "", state_table(results[-1]), ""]
    parts += ["## Memory and CPU of the provider, the program and the engine (peak over every step)", "",
              memory_table(results), ""]
    parts += ["## Where the time above the floor goes (Sentry read: first request to last answer; CPU: tool minus floor)",
              "", gap_table(results, cpus=machine.cpus), ""]
    if len(results) > 1:
        parts += [f"## Growth from N={results[0].projects} to N={results[-1].projects} (b in cost ~ N^b)", "",
                  growth_table(results), ""]
    parts += ["## Time the benchmark spent per size", "", run_time_table(results), ""]
    if profile:
        parts += [profile.rstrip(), ""]
    return "\n".join(parts)
