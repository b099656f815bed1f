"""The PNG chart of wall time against N, tool beside floor."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from bench.report import SizeResult, best_floor

__all__ = ["write_chart"]


def write_chart(results: Sequence[SizeResult], path: Path, *, latency_ms: int) -> None:
    import matplotlib

    matplotlib.use("Agg")  # no display on CI or a server
    import matplotlib.pyplot as plt

    sizes = [r.projects for r in results]
    figure, axes = plt.subplots(figsize=(7, 4.5), dpi=120)
    series = [
        ("tool: first up (skip checkpoints)", [r.tool["first"].seconds for r in results], "tab:blue", "-"),
        ("tool: no-op up", [r.tool["noop"].seconds for r in results], "tab:blue", "--"),
        ("tool: up, 1% rotated", [r.tool["rotated_up"].seconds for r in results], "tab:blue", ":"),
        # The goals' floor: the faster of the plain and the streamed program.
        ("faster floor: first up (skip checkpoints)", [_best_seconds(r, "first") for r in results], "tab:gray", "-"),
        ("faster floor: no-op up", [_best_seconds(r, "noop") for r in results], "tab:gray", "--"),
        ("floor: up, as many changed", [r.floor["rotated_up"].seconds for r in results], "tab:gray", ":"),
    ]
    for label, seconds, color, style in series:
        axes.plot(sizes, seconds, marker="o", color=color, linestyle=style, label=label)
    axes.set_xlabel("projects (N)")
    axes.set_ylabel("wall time of the pulumi command (s)")
    axes.set_title(f"sentry-dsn-sync vs N no-I/O dynamic resources (Sentry latency {latency_ms} ms)")
    axes.set_xticks(sizes)
    axes.set_ylim(bottom=0)
    axes.grid(True, alpha=0.3)
    axes.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)


def _best_seconds(result: SizeResult, step: str) -> float:
    best = best_floor(result, step)
    assert best is not None, f"the floor ran no {step} at N={result.projects}"
    return best.seconds
