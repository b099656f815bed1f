"""The rotation report: which client key is each project's traffic really on?

A rotation has four steps: create a new key, publish it, watch traffic move to
it, retire the old key. This module carries the third and fourth: for every
project a stack published (its `projects` output) it lists each active key,
the published one marked, with the events Sentry saw on it over the last day
(per-key stats, the endpoint Sentry's own Client Keys page reads), and flags

* the published key when nothing arrived on it since it was created (the
  consumers never redeployed with the new DSN), and
* an unpublished active key that still receives events: not yet safe to
  deactivate.

Where Sentry does not serve per-key stats (older self-hosted releases answer
403 or 404) the project's totals stand in, and the output says so.

    sentry-dsn-sync report --stack prod [--json] [--png keys.png] [--fail-on-silent] [--fail-on-old-key-traffic]
    python -m sentry_dsn_sync.report --outputs outputs.json

The Sentry token is only ever read from `SENTRY_AUTH_TOKEN`: a flag would put
it into shell history and process listings.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from sentry_dsn_sync.config import DEFAULT_SENTRY_URL, SentryAccess, parse_sentry_flags
from sentry_dsn_sync.errors import (
    ConfigError,
    SentryDsnSyncError,
    SentryError,
    SentryNotFoundError,
    SentryPermissionError,
)
from sentry_dsn_sync.sentry import KeyStatsBucket, ProjectKey, SentryApi, SentryClient

__all__ = [
    "EXIT_ERROR",
    "EXIT_OK",
    "EXIT_OLD_KEY_TRAFFIC",
    "EXIT_SILENT",
    "EXIT_USAGE",
    "KeyReport",
    "Pacer",
    "ProjectReport",
    "PublishedKey",
    "RotationReport",
    "build_report",
    "format_table",
    "main",
    "parse_outputs",
    "read_stack_outputs",
    "report_main",
    "to_json",
    "write_chart",
]

EXIT_OK = 0
EXIT_ERROR = 1  # Sentry or pulumi failed; the message says which and why
EXIT_USAGE = 2  # bad flags, settings or outputs (argparse uses 2 as well)
EXIT_SILENT = 3  # only with --fail-on-silent: a published key received nothing since it was created
EXIT_OLD_KEY_TRAFFIC = 4  # only with --fail-on-old-key-traffic: an unpublished active key is still in use

HOUR = 3600
DEFAULT_HOURS = 24
DEFAULT_IDLE_HOURS = 2
_MAX_HOURS = 24 * 30  # Sentry keeps hourly stats for about that long
# Enough parallel projects to hide latency at hundreds of projects; the
# client still lowers it to Sentry's concurrent limit.
_WORKERS = 8
# Sentry's own budgets for these endpoints (requests a second, per user and
# organization); the report stays under them instead of collecting 429s.
KEY_STATS_PER_SECOND = 20
PROJECT_STATS_PER_SECOND = 5

KeyState = Literal["active", "inactive", "missing"]
StatsSource = Literal["key", "project"]

# Flag codes (in --json) and how the table words them.
SILENT = "silent"
STILL_RECEIVING = "still-receiving"
TRAFFIC_UNKNOWN = "traffic-unknown"
KEY_INACTIVE = "key-inactive"
KEY_MISSING = "key-missing"
_FLAG_TEXT = {
    SILENT: "SILENT since created",
    STILL_RECEIVING: "STILL RECEIVING",
    TRAFFIC_UNKNOWN: "traffic unknown",
    KEY_INACTIVE: "key inactive in Sentry",
    KEY_MISSING: "key not found in Sentry",
}


@dataclass(frozen=True)
class PublishedKey:
    """What the producer stack published for one project (an entry of its `projects` output)."""

    project: str
    key_id: str
    dsn: str


@dataclass(frozen=True)
class KeyReport:
    """One client key of a project and the events Sentry saw on it; counts are None without per-key stats."""

    key_id: str
    label: str
    published: bool
    state: KeyState
    created: datetime | None
    total: int | None
    accepted: int | None
    filtered: int | None
    dropped: int | None
    # Events in the whole hours after the key was created; None while no such
    # hour lies inside the window (a key minutes old) or without per-key stats.
    since_created: int | None
    # Events in the last `idle_hours` hours, the current one included.
    recent: int | None
    hourly: tuple[KeyStatsBucket, ...]

    @property
    def flags(self) -> tuple[str, ...]:
        found: list[str] = []
        if self.published and self.since_created == 0:
            found.append(SILENT)
        if not self.published and self.state == "active":
            if self.recent is None:
                found.append(TRAFFIC_UNKNOWN)
            elif self.recent > 0:
                found.append(STILL_RECEIVING)
        if self.state == "inactive":
            found.append(KEY_INACTIVE)
        elif self.state == "missing":
            found.append(KEY_MISSING)
        return tuple(found)


@dataclass(frozen=True)
class ProjectTotals:
    """The project's own stats: what stands in where Sentry serves no per-key stats."""

    received: int
    rejected: int
    received_since_key_change: int | None
    hourly_received: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class ProjectReport:
    project: str
    key_id: str
    dsn: str
    stats_source: StatsSource
    # Why per-key stats are missing, for the output; None when they are there.
    note: str | None
    keys: tuple[KeyReport, ...]
    totals: ProjectTotals | None = None

    @property
    def published(self) -> KeyReport:
        return next(key for key in self.keys if key.published)

    @property
    def silent(self) -> bool:
        """Nothing arrived since the published key appeared: senders likely still use an old key."""
        if self.totals is not None:
            return self.totals.received_since_key_change == 0
        return SILENT in self.published.flags

    @property
    def old_keys_in_use(self) -> tuple[KeyReport, ...]:
        """Unpublished active keys still receiving events, or whose traffic cannot be told apart."""
        return tuple(k for k in self.keys if STILL_RECEIVING in k.flags or TRAFFIC_UNKNOWN in k.flags)

    @property
    def flags(self) -> tuple[str, ...]:
        found = [SILENT] if self.silent else []
        for key in self.keys:
            found.extend(flag for flag in key.flags if flag not in found and flag != SILENT)
        return tuple(found)


@dataclass(frozen=True)
class RotationReport:
    organization: str
    since: datetime
    until: datetime
    idle_hours: int
    projects: tuple[ProjectReport, ...]

    @property
    def silent_projects(self) -> tuple[str, ...]:
        return tuple(row.project for row in self.projects if row.silent)

    @property
    def old_keys_in_use(self) -> tuple[tuple[str, KeyReport], ...]:
        return tuple((row.project, key) for row in self.projects for key in row.old_keys_in_use)


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


class Pacer:
    """Spaces calls to one endpoint at most `per_second` apart, across threads.

    Sentry limits its stats endpoints per user and organization (project
    stats 5/s, key stats 20/s); a report over hundreds of keys would
    otherwise spend its time in 429s and retries.
    """

    def __init__(
        self,
        per_second: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        # 5% slack: Sentry counts in whole-second windows on its own clock, and
        # exactly 1/rate apart can put one call too many into a window.
        self._interval = 1.05 / per_second
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next = float("-inf")

    def wait(self) -> None:
        with self._lock:
            now = self._clock()
            slot = max(now, self._next)
            self._next = slot + self._interval
        if slot > now:
            self._sleep(slot - now)


def report_window(now: datetime, *, hours: int = DEFAULT_HOURS) -> tuple[datetime, datetime]:
    """`hours` hourly buckets ending with the current, partial hour.

    Starting on an hour boundary keeps the first bucket whole, so the totals
    cover exactly the hours shown instead of a sliver of one more.
    """
    current_hour = now.replace(minute=0, second=0, microsecond=0)
    return current_hour - timedelta(hours=hours - 1), now


@dataclass(frozen=True)
class _Window:
    since: datetime
    until: datetime
    idle_hours: int

    @property
    def recent_start(self) -> float:
        """Start of the buckets that count as "recent": the last `idle_hours`, the current one included."""
        current_hour = self.until.replace(minute=0, second=0, microsecond=0)
        return (current_hour - timedelta(hours=self.idle_hours - 1)).timestamp()


class _StatsReader:
    """Reads stats for the report, paced per endpoint, from one API client."""

    def __init__(self, api: SentryApi, organization: str, window: _Window) -> None:
        self.api = api
        self.organization = organization
        self.window = window
        self._key_pacer = Pacer(KEY_STATS_PER_SECOND)
        self._project_pacer = Pacer(PROJECT_STATS_PER_SECOND)

    def key_stats(self, project: str, key_id: str) -> list[KeyStatsBucket]:
        self._key_pacer.wait()
        return self.api.get_project_key_stats(
            self.organization, project, key_id, since=self.window.since, until=self.window.until
        )

    def project_stats(self, project: str, stat: Literal["received", "rejected"]) -> list[tuple[int, int]]:
        self._project_pacer.wait()
        return self.api.get_project_stats(
            self.organization, project, stat=stat, since=self.window.since, until=self.window.until
        )


def build_report(
    api: SentryApi,
    organization: str,
    published: Sequence[PublishedKey],
    *,
    now: datetime,
    hours: int = DEFAULT_HOURS,
    idle_hours: int = DEFAULT_IDLE_HOURS,
) -> RotationReport:
    """Ask Sentry about every key of every published project, a few projects at a time."""
    since, until = report_window(now, hours=hours)
    reader = _StatsReader(api, organization, _Window(since, until, idle_hours))
    with ThreadPoolExecutor(max_workers=min(_WORKERS, max(1, len(published)))) as pool:
        rows = tuple(pool.map(lambda entry: _project_report(reader, entry), published))
    return RotationReport(
        organization=organization, since=since, until=until, idle_hours=idle_hours, projects=rows
    )


def _project_report(reader: _StatsReader, entry: PublishedKey) -> ProjectReport:
    # status=None: the published key may have been deactivated since, and that is worth showing.
    listed = reader.api.list_project_keys(reader.organization, entry.project, status=None)
    shown = _keys_shown(listed, entry.key_id)
    try:
        keys = [_key_report(reader, entry, key, published=key.id == entry.key_id) for key in shown]
    except (SentryNotFoundError, SentryPermissionError) as exc:
        # Older self-hosted releases lack the endpoint (404) or keep it from this token (403).
        return _project_fallback(reader, entry, shown, exc)
    if not any(key.published for key in keys):
        keys.insert(0, _missing(entry))
    return ProjectReport(entry.project, entry.key_id, entry.dsn, "key", None, tuple(keys))


def _keys_shown(listed: Sequence[ProjectKey], published_id: str) -> list[ProjectKey]:
    """The published key (even if inactive) and every other active key, published first, then newest first."""
    shown = [key for key in listed if key.is_active or key.id == published_id]
    newest_first = sorted(shown, key=lambda k: k.date_created or datetime.min.replace(tzinfo=UTC), reverse=True)
    return sorted(newest_first, key=lambda k: k.id != published_id)


def _key_report(reader: _StatsReader, entry: PublishedKey, key: ProjectKey, *, published: bool) -> KeyReport:
    buckets = reader.key_stats(entry.project, key.id)
    window = reader.window
    return KeyReport(
        key_id=key.id,
        label=key.label,
        published=published,
        state="active" if key.is_active else "inactive",
        created=key.date_created,
        total=sum(b.total for b in buckets),
        accepted=sum(b.accepted for b in buckets),
        filtered=sum(b.filtered for b in buckets),
        dropped=sum(b.dropped for b in buckets),
        since_created=_events_since([(b.ts, b.total) for b in buckets], key.date_created),
        recent=sum(b.total for b in buckets if b.ts >= window.recent_start),
        hourly=tuple(buckets),
    )


def _missing(entry: PublishedKey) -> KeyReport:
    """The published key when Sentry no longer lists it (deleted since)."""
    return KeyReport(entry.key_id, "-", True, "missing", None, None, None, None, None, None, None, ())


def _project_fallback(
    reader: _StatsReader, entry: PublishedKey, shown: Sequence[ProjectKey], exc: SentryError
) -> ProjectReport:
    """Project totals instead of per-key stats, for a Sentry that does not serve them."""
    received = reader.project_stats(entry.project, "received")
    rejected = reader.project_stats(entry.project, "rejected")
    published = next((k for k in shown if k.id == entry.key_id), None)
    created = published.date_created if published is not None else None
    keys = [
        KeyReport(
            key.id, key.label, key.id == entry.key_id, "active" if key.is_active else "inactive",
            key.date_created, None, None, None, None, None, None, (),
        )
        for key in shown
    ]
    if published is None:
        keys.insert(0, _missing(entry))
    status = f"HTTP {exc.status}" if exc.status else type(exc).__name__
    return ProjectReport(
        project=entry.project,
        key_id=entry.key_id,
        dsn=entry.dsn,
        stats_source="project",
        note=f"per-key stats not available from this Sentry ({status}); project totals shown instead",
        keys=tuple(keys),
        totals=ProjectTotals(
            received=sum(count for _, count in received),
            rejected=sum(count for _, count in rejected),
            received_since_key_change=_events_since(received, created),
            hourly_received=tuple(received),
        ),
    )


def _events_since(series: Sequence[tuple[int, int]], created: datetime | None) -> int | None:
    """Events in the buckets that began at or after the key's creation.

    A bucket that straddles the creation also holds events sent before it, so
    it cannot show silence; a key older than the window counts every bucket.
    """
    start = created.timestamp() if created is not None else float("-inf")
    after = [count for bucket, count in series if bucket >= start]
    return sum(after) if after else None


# -- rendering ----------------------------------------------------------------

_COLUMNS = (
    "PROJECT", "KEY ID", "LABEL", "PUBLISHED", "CREATED (UTC)",
    "TOTAL", "ACCEPTED", "FILTERED", "DROPPED", "RECENT", "FLAG",
)
_NUMERIC = {5, 6, 7, 8, 9}


def format_table(report: RotationReport) -> str:
    """A plain-text table, one row per key, aligned for a terminal or a CI log, with what the flags mean."""
    rows = [_table_row(row, key) for row in report.projects for key in row.keys]
    widths = [max(len(cells[i]) for cells in [_COLUMNS, *rows]) for i in range(len(_COLUMNS))]

    def line(cells: Sequence[str]) -> str:
        padded = [c.rjust(w) if i in _NUMERIC else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths))]
        return "  ".join(padded).rstrip()

    lines = [
        f"Sentry organization '{report.organization}', events per client key from "
        f"{_format_time(report.since)} to {_format_time(report.until)} UTC "
        f"(RECENT: the last {report.idle_hours} hours)",
        "",
        line(_COLUMNS),
        *(line(cells) for cells in rows),
        "",
        *(f"DSN {row.project}: {row.dsn}" for row in report.projects),
    ]
    for row in report.projects:
        if row.note is not None and row.totals is not None:
            lines.append(
                f"NOTE {row.project}: {row.note}: received {row.totals.received}, rejected {row.totals.rejected}"
            )
    if report.silent_projects:
        lines += [
            "",
            f"SILENT: {', '.join(report.silent_projects)} received no events since the published key was "
            "created. Redeploy the consumers with the new DSN before deactivating the old key.",
        ]
    if report.old_keys_in_use:
        named = ", ".join(f"{project} key {key.key_id}" for project, key in report.old_keys_in_use)
        lines += [
            "",
            f"NOT YET SAFE TO DEACTIVATE: {named} (events in the last {report.idle_hours} hours, or no per-key "
            "stats to show otherwise).",
        ]
    return "\n".join(lines) + "\n"


def _table_row(row: ProjectReport, key: KeyReport) -> tuple[str, ...]:
    flags = list(key.flags)
    if key.published and row.silent and SILENT not in flags:
        flags.insert(0, SILENT)
    return (
        row.project,
        key.key_id,
        key.label,
        "yes" if key.published else "no",
        _format_time(key.created) if key.created else "-",
        *(_count(value) for value in (key.total, key.accepted, key.filtered, key.dropped, key.recent)),
        "; ".join(_FLAG_TEXT[flag] for flag in flags) or "ok",
    )


def _count(value: int | None) -> str:
    return "-" if value is None else str(value)


def _format_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M")


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z") if moment else None


def to_json(report: RotationReport) -> dict[str, Any]:
    """The report for pipelines: one object per project, one per key inside it, flags included."""
    return {
        "organization": report.organization,
        "since": _iso(report.since),
        "until": _iso(report.until),
        "idleHours": report.idle_hours,
        "silentProjects": list(report.silent_projects),
        "oldKeysInUse": [{"project": project, "keyId": key.key_id} for project, key in report.old_keys_in_use],
        "projects": [_project_json(row) for row in report.projects],
    }


def _project_json(row: ProjectReport) -> dict[str, Any]:
    totals = row.totals
    return {
        "project": row.project,
        "publishedKeyId": row.key_id,
        "dsn": row.dsn,
        "statsSource": row.stats_source,
        "note": row.note,
        "flags": list(row.flags),
        "projectTotals": None if totals is None else {
            "received": totals.received,
            "rejected": totals.rejected,
            "receivedSinceKeyChange": totals.received_since_key_change,
        },
        "keys": [
            {
                "keyId": key.key_id,
                "label": key.label,
                "published": key.published,
                "state": key.state,
                "created": _iso(key.created),
                "total": key.total,
                "accepted": key.accepted,
                "filtered": key.filtered,
                "dropped": key.dropped,
                "sinceCreated": key.since_created,
                "recent": key.recent,
                "flags": list(key.flags),
                "hourly": [vars(bucket) for bucket in key.hourly],
            }
            for key in row.keys
        ],
    }


def write_chart(report: RotationReport, path: Path) -> None:
    """A PNG of events per hour: published keys in the upper panel, every other active key in the lower.

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

    figure = Figure(figsize=(10, 7), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    published_axes, other_axes = figure.subplots(2, 1, sharex=True)
    for row in report.projects:
        for key in row.keys:
            points = [(b.ts, b.total) for b in key.hourly]
            if row.totals is not None and key.published:
                points = list(row.totals.hourly_received)  # no per-key stats: the project's stand in
            if not points:
                continue
            times = [datetime.fromtimestamp(ts, UTC) for ts, _ in points]
            label = f"{row.project} {key.label} ({key.key_id[:8]})"
            if row.totals is not None and key.published:
                label += " project total"
            if key.published and row.silent:
                label += ", silent"
            axes = published_axes if key.published else other_axes
            axes.plot(times, [n for _, n in points], marker="o", markersize=3,
                      linestyle="-" if key.published else "--", label=label)
    published_axes.set_title(f"Published keys: events per hour, organization '{report.organization}'")
    other_axes.set_title("Other active keys (still in use while above zero)")
    for axes in (published_axes, other_axes):
        axes.set_ylabel("events")
        axes.set_ylim(bottom=0)
        axes.grid(True, alpha=0.3)
        if axes.get_lines():
            # Outside the axes: a legend over the lines would hide exactly the hours that matter.
            axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
    other_axes.set_xlabel("hour (UTC)")
    other_axes.xaxis.set_major_formatter(DateFormatter("%m-%d %H:%M", tz=UTC))  # type: ignore[no-untyped-call]  # matplotlib leaves it unannotated
    other_axes.tick_params(axis="x", labelrotation=30)
    try:
        figure.savefig(path, format="png")
    except OSError as exc:
        raise ConfigError(f"--png: cannot write {path}: {exc.strerror or exc}") from exc


# -- command line -------------------------------------------------------------


_DESCRIPTION = (
    "Events per client key of every project a sentry-dsn-sync stack published, over the last day: "
    "the published key is marked, a published key that received nothing since it was created is "
    "flagged SILENT, an unpublished active key that still receives events is flagged STILL RECEIVING. "
    "The token is read from SENTRY_AUTH_TOKEN only."
)

_EPILOG = f"""exit codes:
  {EXIT_OK}  report written (flags are information unless a --fail-on-* option asks otherwise)
  {EXIT_ERROR}  Sentry or pulumi failed; the message says which and why
  {EXIT_USAGE}  bad flags, settings or stack outputs
  {EXIT_SILENT}  --fail-on-silent: a published key received nothing since it was created
  {EXIT_OLD_KEY_TRAFFIC}  --fail-on-old-key-traffic: an unpublished active key received events in the
     last --idle-hours (or per-key stats are unavailable, so that cannot be ruled out)
  when both apply, {EXIT_SILENT} wins: the new key must work before the old one may go"""


def _version() -> str:
    try:
        return importlib.metadata.version("sentry-dsn-sync")
    except importlib.metadata.PackageNotFoundError:
        return "unknown (not installed)"


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
    parser.add_argument(
        "--idle-hours",
        type=int,
        default=DEFAULT_IDLE_HOURS,
        help=f"an old key counts as still in use when it received events in the last N hours, "
        f"the current one included (default: {DEFAULT_IDLE_HOURS})",
    )
    parser.add_argument("--json", action="store_true", help="print the report as one JSON object (for pipelines)")
    parser.add_argument(
        "--png", type=Path, metavar="FILE", help="also write a chart of events per key per hour"
    )
    parser.add_argument(
        "--fail-on-silent",
        action="store_true",
        help=f"exit {EXIT_SILENT} when a published key received nothing since it was created",
    )
    parser.add_argument(
        "--fail-on-old-key-traffic",
        action="store_true",
        help=f"exit {EXIT_OLD_KEY_TRAFFIC} while an unpublished active key still receives events "
        "(a gate before deactivating the old key)",
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sentry-dsn-sync", description="Tools around the sentry-dsn-sync stack.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    report = commands.add_parser(
        "report",
        help="events per client key of each published project, flagging silent and still-used keys",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_report_arguments(report)
    return parser


def _report_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m sentry_dsn_sync.report",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
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
        access = _sentry_access(args, env)
        published = _published(args)
        with SentryClient(base_url=access.sentry_url, token=access.token, token_source=access.token_source) as client:
            report = build_report(
                SentryApi(client), access.organization, published,
                now=datetime.now(UTC), hours=args.hours, idle_hours=args.idle_hours,
            )
        if args.json:
            sys.stdout.write(json.dumps(to_json(report), indent=2) + "\n")
        else:
            sys.stdout.write(format_table(report))
        if args.png is not None:
            write_chart(report, args.png)
            # On stderr with --json, so that standard output stays one JSON document.
            (sys.stderr if args.json else sys.stdout).write(f"chart written to {args.png}\n")
    except ConfigError as exc:
        _fail(exc)
        return EXIT_USAGE
    except SentryDsnSyncError as exc:
        _fail(exc)
        return EXIT_ERROR
    if args.fail_on_silent and report.silent_projects:
        return EXIT_SILENT
    if args.fail_on_old_key_traffic and report.old_keys_in_use:
        return EXIT_OLD_KEY_TRAFFIC
    return EXIT_OK


def _sentry_access(args: argparse.Namespace, env: Mapping[str, str]) -> SentryAccess:
    """Organization, base URL and token: flags first, then the environment variables the stack reads."""
    if not 1 <= args.hours <= _MAX_HOURS:
        raise ConfigError(f"--hours: {args.hours} is out of range; use 1 to {_MAX_HOURS}")
    if not 1 <= args.idle_hours <= args.hours:
        raise ConfigError(f"--idle-hours: {args.idle_hours} is out of range; use 1 to --hours ({args.hours})")
    return parse_sentry_flags(organization=args.organization, sentry_url=args.sentry_url, env=env)


def _published(args: argparse.Namespace) -> tuple[PublishedKey, ...]:
    if args.outputs is not None:
        return parse_outputs(_read_outputs_file(args.outputs), source=args.outputs)
    source = f"stack '{args.stack}'" if args.stack else "the selected stack"
    return parse_outputs(read_stack_outputs(args.stack, cwd=args.cwd), source=source)


def _fail(exc: Exception) -> None:
    sys.stderr.write(f"sentry-dsn-sync report: error: {exc}\n")


if __name__ == "__main__":
    sys.exit(report_main())
