"""Split one pulumi command's wall time along the engine's path, from the provider's own call times.

The engine takes one resource's `Check` (and then its `Diff`) before the next
registration, so the first `Check` holds every other resource back. A run then
splits into: the start (CLI, program and provider), the first `Check`, the
other resources' calls one after another, and what follows the last call (the
stack outputs, the final save, the shutdown). `_call_clock.py` records each
call's start and end; the engine starts the provider through the wrapper
`clocked_venv` writes, as it does the sampler through `_profile.profiling_venv`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench._profile import stand_in_venv
from bench.report import markdown_table

__all__ = ["StepTimeline", "clocked_venv", "read_timeline", "timeline_table"]

_WRAPPER = """\
#!/bin/sh
if [ "$1" = "-u" ] && [ "$2" = "-m" ] && [ "$3" = "pulumi.dynamic" ]; then
  shift 3
  exec "{python}" -u "{clock}" "{calls_out}" pulumi.dynamic "$@"
fi
exec "{python}" "$@"
"""


def clocked_venv(directory: Path, *, calls_out: Path) -> Path:
    """A directory that looks like a virtualenv whose `bin/python` runs the provider under the call clock.

    Set as the project's `virtualenv` option, it is what the engine starts the
    provider with; every other use of that python runs this interpreter as is.
    """
    return stand_in_venv(directory / "clocked-venv", _WRAPPER.format(
        python=sys.executable, clock=Path(__file__).with_name("_call_clock.py"), calls_out=calls_out))


@dataclass(frozen=True)
class StepTimeline:
    """One command's wall time in four parts that add up to its whole (seconds)."""

    until_first_check: float
    first_check: float
    other_calls: float
    after_last_call: float
    checks: int

    @property
    def total(self) -> float:
        return self.until_first_check + self.first_check + self.other_calls + self.after_last_call

    @property
    def per_resource_ms(self) -> float:
        """The other calls' time per resource after the first."""
        return 1000 * self.other_calls / max(self.checks - 1, 1)


def read_timeline(calls: str, *, started: float, ended: float) -> StepTimeline | None:
    """The parts of a command that ran from `started` to `ended` (epoch seconds); None without a Check."""
    records = []
    for line in calls.splitlines():
        method, start, end = line.split()
        records.append((method, float(start), float(end)))
    checks = sorted((start, end) for method, start, end in records if method == "Check")
    if not checks:
        return None
    first_start, first_end = checks[0]
    last_end = max(end for _, _, end in records)
    return StepTimeline(
        until_first_check=first_start - started,
        first_check=first_end - first_start,
        other_calls=last_end - first_end,
        after_last_call=ended - last_end,
        checks=len(checks),
    )


def timeline_table(steps: list[tuple[str, StepTimeline, StepTimeline]]) -> str:
    """One column pair per (step name, tool, floor), with the difference beside each pair."""
    header = ["along the engine's path (s)"]
    for name, _, _ in steps:
        header += [f"{name}: tool", "floor", "tool - floor"]
    rows: list[tuple[str, Callable[[StepTimeline], float]]] = [
        ("until the provider's first Check (CLI, program and provider start)", lambda t: t.until_first_check),
        ("the first Check (every other resource waits behind it)", lambda t: t.first_check),
        ("every other resource's calls, one after another", lambda t: t.other_calls),
        ("- per resource (ms)", lambda t: t.per_resource_ms),
        ("after the last call (outputs, the final save, shutdown)", lambda t: t.after_last_call),
        ("whole command", lambda t: t.total),
    ]
    body = []
    for label, value in rows:
        row = [label]
        for _, tool, floor in steps:
            row += [f"{value(tool):.2f}", f"{value(floor):.2f}", f"{value(tool) - value(floor):+.2f}"]
        body.append(row)
    return markdown_table(header, body)
