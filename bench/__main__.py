"""`python -m bench` (`make bench`): measure the tool against the engine's floor and write the report."""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from bench._run import bench_environment, snapshot_components
from bench.chart import write_chart
from bench.plan import CHECKPOINTED_MAX, LARGE, LARGE_NOOP_REPEATS, TWO_KEYS_FROM
from bench.report import MachineInfo, SizeResult, render_report, times_table

HERE = Path(__file__).resolve().parent


def _sizes(text: str) -> list[int]:
    sizes = sorted({int(part) for part in text.split(",") if part.strip()})
    if not sizes or sizes[0] < 1:
        raise argparse.ArgumentTypeError("sizes are positive integers, e.g. 50,200,500")
    return sizes


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--sizes", type=_sizes, default=[500, 2000, 5000],
                        help="project counts (default 500,2000,5000)")
    parser.add_argument("--quick", action="store_true", help="sizes 10,20 and no profile: a smoke run")
    parser.add_argument("--latency-ms", type=int, default=50,
                        help="latency the simulator adds to every Sentry request, standing for a real network")
    parser.add_argument("--vault-latency-ms", type=int, default=0,
                        help="round trip added to every request of the tool to Vault, through a relay (default 0: "
                             "the local OpenBao answers at once)")
    parser.add_argument("--repeat", type=int, default=4,
                        help=f"no-op runs per size, the fastest counts (at most {LARGE_NOOP_REPEATS} from N={LARGE})")
    parser.add_argument("--keys-per-project", type=int, default=None,
                        help=f"active keys per project (default: 1, and 2 from N={TWO_KEYS_FROM})")
    parser.add_argument("--checkpointed-max", type=int, default=CHECKPOINTED_MAX,
                        help="largest N at which a first up with a checkpoint after every step is measured too "
                             f"(default {CHECKPOINTED_MAX}; 0: never)")
    parser.add_argument("--no-profile", action="store_true", help="skip the profiled and timed runs at the largest N")
    parser.add_argument("--tool-pythonpath", type=Path, default=None,
                        help="a directory holding a patched copy of the sentry_dsn_sync package, put first on the tool's "
                             "PYTHONPATH: measures a candidate change without touching the tree")
    parser.add_argument("--work", type=Path, default=HERE / "out", help="scratch dir (projects, state, profile)")
    parser.add_argument("--output", type=Path, default=HERE / "RESULTS.md")
    parser.add_argument("--chart", type=Path, default=HERE / "results.png")
    return parser


def machine_info(pulumi_version: str, code: str) -> MachineInfo:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    return MachineInfo(
        cpus=os.cpu_count() or 0,
        cpu_model=model,
        date=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        python=platform.python_version(),
        pulumi=pulumi_version,
        notes=(f"load average at start: {load}", code),
    )


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def let_pulumi_stop_its_plugins() -> None:
    """Give every command the run starts a working SIGINT, even if this process was started with it ignored.

    A non-interactive shell starts `make bench &` with SIGINT ignored, and
    children inherit that. The pulumi CLI stops the language host it asked for
    runtime metadata with SIGINT and kills it only after 5 s: every command of
    the run then takes 5 s longer, the floor's as much as the tool's, and every
    ratio in the report shrinks towards 1. A handler of our own is reset to the
    default when a child starts, unlike an ignored signal.
    """
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    let_pulumi_stop_its_plugins()
    sizes = [10, 20] if args.quick else args.sizes
    profile = not (args.quick or args.no_profile)
    # Made first: a missing directory would otherwise fail the run only once it is over.
    for directory in {args.work, args.output.parent, args.chart.parent}:
        directory.mkdir(parents=True, exist_ok=True)
    if args.tool_pythonpath is None:
        tool_pythonpath, code = snapshot_components(args.work)
    else:
        tool_pythonpath, code = args.tool_pythonpath, f"sentry_dsn_sync from {args.tool_pythonpath} (--tool-pythonpath)"
    results: list[SizeResult] = []
    profile_report = None
    with bench_environment(args.work, keys_per_project=args.keys_per_project, latency_ms=args.latency_ms,
                           repeat=args.repeat, log=_log, tool_pythonpath=tool_pythonpath,
                           checkpointed_max=args.checkpointed_max, vault_latency_ms=args.vault_latency_ms) as bench:
        version = subprocess.run([str(bench.bin_dir / "pulumi"), "version"], capture_output=True,
                                 text=True, check=True).stdout.strip()
        machine = machine_info(version, code)
        for n in sizes:
            _log(f"N={n}")
            result, report = bench.run_size(n, profile=profile and n == sizes[-1])
            results.append(result)
            profile_report = report or profile_report
            _log(times_table(results))
    text = render_report(results, machine=machine, latency_ms=args.latency_ms, repeat=args.repeat,
                         vault_latency_ms=args.vault_latency_ms, profile=profile_report)
    print(text)
    args.output.write_text(text)
    write_chart(results, args.chart, latency_ms=args.latency_ms)
    _log(f"wrote {args.output} and {args.chart}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
