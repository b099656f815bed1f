"""Project event counts over time, derived from the seed instead of stored.

Counts come from a constant hourly rate, spread so that any bucket size adds
up to the same totals and a bucket's count depends only on its timestamp: two
calls over overlapping ranges agree, as real stats do. A project seeded as
`silentAfterKeyChange` receives nothing once its newest key exists, which is
how a rotation whose new DSN was never deployed looks in Sentry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

__all__ = [
    "RESOLUTIONS",
    "STATS",
    "InvalidStatsQuery",
    "StatsQuery",
    "parse_stats_query",
    "stats_series",
]

RESOLUTIONS = {"10s": 10, "1h": 3600, "1d": 86400}
STATS = ("received", "rejected", "blacklisted", "generated")
_MAX_POINTS = 10_000


class InvalidStatsQuery(ValueError):
    """A bad `stat`, `since`, `until` or `resolution`; the message is the 400 `detail`."""


@dataclass(frozen=True)
class StatsQuery:
    stat: str
    since: int
    until: int
    resolution: int


def parse_stats_query(
    *, stat: str | None, since: str | None, until: str | None, resolution: str | None, now: float
) -> StatsQuery:
    chosen = stat or "received"
    if chosen not in STATS:
        raise InvalidStatsQuery(f"Invalid stat: {chosen}")
    end = _timestamp(until, name="until", default=now)
    # Sentry's default window is the last day.
    start = _timestamp(since, name="since", default=end - 86400 + 1)
    if start > end:
        raise InvalidStatsQuery("since must not be after until")
    if resolution is None:
        step = _optimal_rollup(end - start)
    elif resolution in RESOLUTIONS:
        step = RESOLUTIONS[resolution]
    else:
        raise InvalidStatsQuery(f"Invalid resolution: {resolution}")
    if (end - start) // step + 1 > _MAX_POINTS:
        raise InvalidStatsQuery("Too many data points requested; use a coarser resolution")
    return StatsQuery(stat=chosen, since=int(start), until=int(end), resolution=step)


def stats_series(
    query: StatsQuery,
    *,
    events_per_hour: int,
    created: datetime,
    silent_since: datetime | None,
) -> list[list[int]]:
    """`[timestamp, count]` pairs, one per bucket from `since` to `until`, both included."""
    step = query.resolution
    first = query.since - query.since % step
    last = query.until - query.until % step
    rate = events_per_hour if query.stat == "received" else 0
    opened = created.timestamp()
    stop = silent_since.timestamp() if silent_since else float("inf")
    series: list[list[int]] = []
    for bucket in range(first, last + 1, step):
        live = rate > 0 and bucket + step > opened and bucket < stop
        series.append([bucket, _count(rate, bucket, step) if live else 0])
    return series


def _count(rate: int, bucket: int, step: int) -> int:
    # Cumulative events at a boundary, differenced: buckets of any size sum exactly.
    return (rate * (bucket + step)) // 3600 - (rate * bucket) // 3600


def _optimal_rollup(span: float) -> int:
    if span <= 3600:
        return RESOLUTIONS["10s"]
    if span <= 30 * 86400:
        return RESOLUTIONS["1h"]
    return RESOLUTIONS["1d"]


def _timestamp(raw: str | None, *, name: str, default: float) -> float:
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise InvalidStatsQuery(f"Invalid {name}: expected a UNIX timestamp in seconds") from exc
