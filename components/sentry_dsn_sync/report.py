"""The rotation report: is every published DSN actually receiving events?

After a key rotation the producer stack publishes the new DSN, but nothing
tells you whether the consumers redeployed with it. Sentry does: a project
whose senders still use a deactivated key receives nothing from the moment the
new key exists. This module reads what a stack published (its `projects`
output), asks Sentry when each published key was created and how many events
each project received and rejected over the last day, and flags every project
that has been silent since its key changed.

    sentry-dsn-sync report --stack prod [--png received.png]
    python -m sentry_dsn_sync.report --outputs outputs.json

The Sentry token is only ever read from `SENTRY_AUTH_TOKEN`: a flag would put
it into shell history and process listings.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from sentry_dsn_sync.config import DEFAULT_SENTRY_URL, Secret
from sentry_dsn_sync.errors import ConfigError, SentryDsnSyncError
from sentry_dsn_sync.sentry import ProjectKey, SentryApi, SentryClient

__all__ = [
    "EXIT_ERROR",
    "EXIT_OK",
    "EXIT_SILENT",
    "EXIT_USAGE",
    "ProjectReport",
    "PublishedKey",
    "RotationReport",
    "build_report",
    "format_table",
    "main",
    "parse_outputs",
    "read_stack_outputs",
    "report_main",
    "write_chart",
]

EXIT_OK = 0
EXIT_ERROR = 1  # Sentry or pulumi failed; the message says which and why
EXIT_USAGE = 2  # bad flags, settings or outputs (argparse uses 2 as well)
EXIT_SILENT = 3  # only with --fail-on-silent: at least one project is flagged

HOUR = 3600
DEFAULT_HOURS = 24
_MAX_HOURS = 24 * 30  # Sentry keeps hourly stats for about that long
# Enough parallel projects to hide latency at hundreds of projects; the
# client still lowers it to Sentry's concurrent limit.
_WORKERS = 8

KeyState = Literal["active", "inactive", "missing"]


@dataclass(frozen=True)
class PublishedKey:
    """What the producer stack published for one project (an entry of its `projects` output)."""

    project: str
    key_id: str
    dsn: str


@dataclass(frozen=True)
class ProjectReport:
    """One row of the report: the published key, what Sentry knows about it, and the project's traffic."""

    project: str
    key_id: str
    dsn: str
    key_state: KeyState
    key_created: datetime | None
    received: int
    rejected: int
    # Received events in the hours that started after the key was created;
    # None while no such hour lies inside the window (a key minutes old).
    received_since_key_change: int | None
    hourly_received: tuple[tuple[int, int], ...]

    @property
    def silent(self) -> bool:
        """Nothing arrived since the published key appeared: senders likely still use an old key."""
        return self.received_since_key_change == 0

    @property
    def flags(self) -> tuple[str, ...]:
        found: list[str] = []
        if self.silent:
            found.append("SILENT since key change")
        if self.key_state == "inactive":
            found.append("key inactive in Sentry")
        elif self.key_state == "missing":
            found.append("key not found in Sentry")
        return tuple(found)


@dataclass(frozen=True)
class RotationReport:
    organization: str
    since: datetime
    until: datetime
    projects: tuple[ProjectReport, ...]

    @property
    def silent_projects(self) -> tuple[str, ...]:
        return tuple(row.project for row in self.projects if row.silent)


# -- what the stack published -------------------------------------------------


def parse_outputs(outputs: Any, *, source: str) -> tuple[PublishedKey, ...]:
    """The `projects` output of a producer stack, checked; `source` names it in errors."""
    if not isinstance(outputs, Mapping):
        raise ConfigError(f"{source}: expected the JSON object `pulumi stack output --json` prints")
    projects = outputs.get("projects")
    if projects == "[secret]":
        raise ConfigError(f"{source}: output 'projects' is a secret; it should be plain (public DSNs only)")
    if not isinstance(projects, Mapping):
        found = ", ".join(sorted(map(str, outputs))) or "none"
        raise ConfigError(
            f"{source}: no 'projects' output (outputs found: {found}); run `pulumi up` on the "
            "sentry-dsn-sync stack first, or pass the outputs of that stack"
        )
    published: list[PublishedKey] = []
    for slug, entry in sorted(projects.items()):
        if str(slug) in ("", ".", ".."):
            raise ConfigError(f"{source}: {slug!r} in output 'projects' is not a Sentry project slug")
        key_id = entry.get("keyId") if isinstance(entry, Mapping) else None
        dsn = entry.get("dsn") if isinstance(entry, Mapping) else None
        if not isinstance(key_id, str) or not key_id or not isinstance(dsn, str) or not dsn:
            raise ConfigError(f"{source}: projects.{slug} needs string 'keyId' and 'dsn' entries")
        published.append(PublishedKey(project=str(slug), key_id=key_id, dsn=dsn))
    if not published:
        raise ConfigError(f"{source}: output 'projects' is empty; the stack publishes no project")
    return tuple(published)


def read_stack_outputs(stack: str | None, *, cwd: Path, pulumi: str = "pulumi") -> Any:
    """`pulumi stack output --json` of `stack` (None: the selected one) in the project directory `cwd`.

    No `--show-secrets`: the outputs the report needs are plain, and a report
    has no business decrypting anything.
    """
    executable = shutil.which(pulumi)
    if executable is None:
        raise ConfigError(
            f"the pulumi CLI ({pulumi!r}) is not on PATH; install it, or pass --outputs FILE "
            "with the output of `pulumi stack output --json`"
        )
    command = [executable, "stack", "output", "--json", "--non-interactive"]
    if stack:
        command += ["--stack", stack]
    which = f"`pulumi stack output --stack {stack}`" if stack else "`pulumi stack output` (selected stack)"
    try:
        result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    except OSError as exc:
        raise ConfigError(f"could not run pulumi in {cwd}: {exc}") from exc
    if result.returncode != 0:
        detail = " ".join(result.stderr.split())[-500:] or f"exit code {result.returncode}"
        raise ConfigError(
            f"{which} failed in {cwd}: {detail}; run the report from "
            "the sentry-dsn-sync project directory (or pass --cwd) with the stack's backend logged in"
        )
    try:
        return json.loads(result.stdout or "{}")
    except ValueError as exc:
        raise ConfigError(f"{which} printed something other than JSON") from exc


def _read_outputs_file(path: str) -> Any:
    source = "standard input" if path == "-" else path
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text()
    except OSError as exc:
        raise ConfigError(f"--outputs: cannot read {path}: {exc.strerror or exc}") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"--outputs: {source} is not JSON ({exc.msg} at line {exc.lineno})") from exc


# -- what Sentry says ---------------------------------------------------------


def report_window(now: datetime, *, hours: int = DEFAULT_HOURS) -> tuple[datetime, datetime]:
    """`hours` hourly buckets ending with the current, partial hour.

    Starting on an hour boundary keeps the first bucket whole, so the totals
    cover exactly the hours shown instead of a sliver of one more.
    """
    current_hour = now.replace(minute=0, second=0, microsecond=0)
    return current_hour - timedelta(hours=hours - 1), now


def build_report(
    api: SentryApi,
    organization: str,
    published: Sequence[PublishedKey],
    *,
    now: datetime,
    hours: int = DEFAULT_HOURS,
) -> RotationReport:
    """Ask Sentry about every published key, a few projects at a time."""
    since, until = report_window(now, hours=hours)

    def one(entry: PublishedKey) -> ProjectReport:
        return _project_report(api, organization, entry, since=since, until=until)

    with ThreadPoolExecutor(max_workers=min(_WORKERS, max(1, len(published)))) as pool:
        rows = tuple(pool.map(one, published))
    return RotationReport(organization=organization, since=since, until=until, projects=rows)


def _project_report(
    api: SentryApi, organization: str, entry: PublishedKey, *, since: datetime, until: datetime
) -> ProjectReport:
    # status=None: the published key may have been deactivated since, and that is worth showing.
    keys = api.list_project_keys(organization, entry.project, status=None)
    key = next((k for k in keys if k.id == entry.key_id), None)
    received = api.get_project_stats(organization, entry.project, stat="received", since=since, until=until)
    rejected = api.get_project_stats(organization, entry.project, stat="rejected", since=since, until=until)
    created = key.date_created if key is not None else None
    return ProjectReport(
        project=entry.project,
        key_id=entry.key_id,
        dsn=entry.dsn,
        key_state=_key_state(key),
        key_created=created,
        received=sum(count for _, count in received),
        rejected=sum(count for _, count in rejected),
        received_since_key_change=_received_since(received, created),
        hourly_received=tuple(received),
    )


def _key_state(key: ProjectKey | None) -> KeyState:
    if key is None:
        return "missing"
    return "active" if key.is_active else "inactive"


def _received_since(series: Sequence[tuple[int, int]], created: datetime | None) -> int | None:
    """Events in the buckets that began at or after the key's creation.

    A bucket that straddles the creation also holds events sent before it, so
    it cannot show silence; a key older than the window counts every bucket.
    """
    start = created.timestamp() if created is not None else float("-inf")
    after = [count for bucket, count in series if bucket >= start]
    return sum(after) if after else None


# -- rendering ----------------------------------------------------------------

_COLUMNS = ("PROJECT", "KEY ID", "KEY CREATED (UTC)", "RECEIVED", "REJECTED", "FLAG", "DSN")


def format_table(report: RotationReport) -> str:
    """A plain-text table, aligned for a terminal or a CI log, with a legend for the flags."""
    rows = [
        (
            row.project,
            row.key_id,
            _format_time(row.key_created) if row.key_created else "-",
            str(row.received),
            str(row.rejected),
            "; ".join(row.flags) or "ok",
            row.dsn,
        )
        for row in report.projects
    ]
    widths = [max(len(cells[i]) for cells in [_COLUMNS, *rows]) for i in range(len(_COLUMNS))]
    numeric = {3, 4}

    def line(cells: Sequence[str]) -> str:
        padded = [c.rjust(w) if i in numeric else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths))]
        return "  ".join(padded).rstrip()

    lines = [
        f"Sentry organization '{report.organization}', events from {_format_time(report.since)} "
        f"to {_format_time(report.until)} UTC",
        "",
        line(_COLUMNS),
        *(line(cells) for cells in rows),
    ]
    if report.silent_projects:
        lines += [
            "",
            f"SILENT: {', '.join(report.silent_projects)} received no events since the published key was "
            "created. Redeploy the consumers with the new DSN before deactivating the old key.",
        ]
    return "\n".join(lines) + "\n"


def _format_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M")


def write_chart(report: RotationReport, path: Path) -> None:
    """A PNG of received events per project per hour; silent projects are marked in the legend.

    Uses matplotlib's object API on the Agg canvas, never pyplot, so no GUI
    backend or global figure state is involved (safe in CI and threads).
    """
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.dates import DateFormatter
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise ConfigError(
            "--png needs matplotlib; install it with `pip install 'sentry-dsn-sync[report]'`"
        ) from exc

    figure = Figure(figsize=(10, 5), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    for row in report.projects:
        times = [datetime.fromtimestamp(bucket, UTC) for bucket, _ in row.hourly_received]
        counts = [count for _, count in row.hourly_received]
        label = f"{row.project} (silent since key change)" if row.silent else row.project
        # Datetimes plot through matplotlib's unit converters, which its annotations do not know.
        axes.plot(times, counts, marker="o", markersize=3, linestyle="--" if row.silent else "-", label=label)  # type: ignore[arg-type]
    axes.set_title(f"Events received per hour, organization '{report.organization}'")
    axes.set_xlabel("hour (UTC)")
    axes.set_ylabel("events received")
    axes.set_ylim(bottom=0)
    axes.xaxis.set_major_formatter(DateFormatter("%m-%d %H:%M", tz=UTC))  # type: ignore[no-untyped-call]  # matplotlib leaves it unannotated
    axes.tick_params(axis="x", labelrotation=30)
    axes.grid(True, alpha=0.3)
    # Outside the axes: a legend over the lines would hide exactly the hours that matter.
    figure.legend(loc="outside right upper", fontsize="small")
    try:
        figure.savefig(path, format="png")
    except OSError as exc:
        raise ConfigError(f"--png: cannot write {path}: {exc.strerror or exc}") from exc


# -- command line -------------------------------------------------------------


_DESCRIPTION = (
    "Events received and rejected per published DSN over the last day, flagging every project "
    "that received nothing since its key changed. The token is read from SENTRY_AUTH_TOKEN only."
)


def _add_report_arguments(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--stack",
        help="the sentry-dsn-sync stack whose outputs to read with `pulumi stack output` (default: the selected one)",
    )
    source.add_argument(
        "--outputs",
        metavar="FILE",
        help="read the stack outputs from FILE (`pulumi stack output --json`; '-' for standard input)",
    )
    parser.add_argument("--cwd", type=Path, default=Path("."), help="the sentry-dsn-sync project directory")
    parser.add_argument("--organization", help="Sentry organization slug (default: env SENTRY_ORG)")
    parser.add_argument(
        "--sentry-url", help=f"Sentry base URL (default: env SENTRY_URL, else {DEFAULT_SENTRY_URL})"
    )
    parser.add_argument("--hours", type=int, default=DEFAULT_HOURS, help="hours of stats to report (default: 24)")
    parser.add_argument("--png", type=Path, metavar="FILE", help="also write a chart of received events per hour")
    parser.add_argument(
        "--fail-on-silent",
        action="store_true",
        help=f"exit {EXIT_SILENT} when a project received nothing since its key changed (for pipelines)",
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sentry-dsn-sync", description="Tools around the sentry-dsn-sync stack.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    report = commands.add_parser(
        "report",
        help="events received per published DSN over the last day, flagging projects silent since a key change",
        description=_DESCRIPTION,
    )
    _add_report_arguments(report)
    return parser


def _report_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m sentry_dsn_sync.report", description=_DESCRIPTION)
    _add_report_arguments(parser)
    return parser


def main(argv: Sequence[str] | None = None, *, env: Mapping[str, str] | None = None) -> int:
    """The `sentry-dsn-sync` console script: `sentry-dsn-sync report ...`."""
    args = _parser().parse_args(argv)
    return _run_report(args, os.environ if env is None else env)


def report_main(argv: Sequence[str] | None = None, *, env: Mapping[str, str] | None = None) -> int:
    """`python -m sentry_dsn_sync.report ...`: the report command on its own."""
    args = _report_parser().parse_args(argv)
    return _run_report(args, os.environ if env is None else env)


def _run_report(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    try:
        organization, sentry_url, token = _sentry_settings(args, env)
        published = _published(args)
        with SentryClient(
            base_url=sentry_url, token=token, token_source="environment variable SENTRY_AUTH_TOKEN"
        ) as client:
            report = build_report(SentryApi(client), organization, published, now=datetime.now(UTC), hours=args.hours)
        sys.stdout.write(format_table(report))
        if args.png is not None:
            write_chart(report, args.png)
            sys.stdout.write(f"chart written to {args.png}\n")
    except ConfigError as exc:
        _fail(exc)
        return EXIT_USAGE
    except SentryDsnSyncError as exc:
        _fail(exc)
        return EXIT_ERROR
    if args.fail_on_silent and report.silent_projects:
        return EXIT_SILENT
    return EXIT_OK


def _sentry_settings(args: argparse.Namespace, env: Mapping[str, str]) -> tuple[str, str, Secret]:
    """Organization, base URL and token: flags first, then the same environment variables the stack reads."""
    if not 1 <= args.hours <= _MAX_HOURS:
        raise ConfigError(f"--hours: {args.hours} is out of range; use 1 to {_MAX_HOURS}")
    organization = args.organization or env.get("SENTRY_ORG", "")
    if not organization:
        raise ConfigError("no Sentry organization; pass --organization <slug> or set SENTRY_ORG")
    token = env.get("SENTRY_AUTH_TOKEN", "")
    if not token:
        raise ConfigError(
            "SENTRY_AUTH_TOKEN is not set; export a Sentry auth token with the project:read and org:read scopes"
        )
    return organization, args.sentry_url or env.get("SENTRY_URL") or DEFAULT_SENTRY_URL, Secret(token)


def _published(args: argparse.Namespace) -> tuple[PublishedKey, ...]:
    if args.outputs is not None:
        return parse_outputs(_read_outputs_file(args.outputs), source=args.outputs)
    source = f"stack '{args.stack}'" if args.stack else "the selected stack"
    return parse_outputs(read_stack_outputs(args.stack, cwd=args.cwd), source=source)


def _fail(exc: Exception) -> None:
    sys.stderr.write(f"sentry-dsn-sync report: error: {exc}\n")


if __name__ == "__main__":
    sys.exit(report_main())
