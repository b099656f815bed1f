"""Events per client key over time: what Sentry's per-key stats endpoint answers.

By default a project's traffic (`eventsPerHour`) goes to the key that was its
newest at each moment: when a new key appears, senders move to it at once.
A project seeded as `silentAfterKeyChange` receives nothing once its newest
key exists (its senders kept a key that no longer works).

Tests that need a slower, realistic rotation script the traffic instead, per
key, as segments with hourly rates (`PUT /_admin/projects/{org}/{project}/traffic`):
then only the segments count, and the project's own stats are the sum of its
keys'. Counts depend only on timestamps, so overlapping queries agree.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .stats import StatsQuery

__all__ = ["InvalidTraffic", "KeyTraffic", "TrafficSegment", "key_stats_series", "parse_traffic", "project_totals"]

_OUTCOMES = ("accepted", "filtered", "dropped")


class InvalidTraffic(ValueError):
    """The admin traffic body is invalid; the message names the field."""


@dataclass(frozen=True)
class TrafficSegment:
    """Events per hour for one key from `since` until `until` (None: open-ended), epoch seconds."""

    since: float
    until: float | None
    accepted: int
    filtered: int = 0
    dropped: int = 0

    def count(self, outcome: str, start: float, end: float) -> int:
        """Events of `outcome` in [start, end): cumulative counts differenced, so buckets of any size add up."""
        rate: int = getattr(self, outcome)
        low = max(start, self.since)
        high = end if self.until is None else min(end, self.until)
        if rate <= 0 or high <= low:
            return 0
        return int(rate * high) // 3600 - int(rate * low) // 3600


@dataclass(frozen=True)
class KeyTraffic:
    key_id: str
    segments: tuple[TrafficSegment, ...]


def key_stats_series(
    query: StatsQuery, segments: Sequence[TrafficSegment], *, now: float
) -> list[dict[str, int]]:
    """`{ts, total, dropped, accepted, filtered}` per bucket, as ProjectKeyStatsEndpoint renders them."""
    step = query.resolution
    first = query.since - query.since % step
    last = query.until - query.until % step
    series: list[dict[str, int]] = []
    for bucket in range(first, last + 1, step):
        # Nothing has arrived after now yet, even in the bucket that has begun.
        end = min(bucket + step, now)
        counts = {o: sum(s.count(o, bucket, end) for s in segments) for o in _OUTCOMES}
        series.append(
            {
                "ts": bucket,
                "total": sum(counts.values()),
                "dropped": counts["dropped"],
                "accepted": counts["accepted"],
                "filtered": counts["filtered"],
            }
        )
    return series


def project_totals(query: StatsQuery, traffic: Sequence[KeyTraffic], *, now: float) -> list[list[int]]:
    """Project stats (`[ts, count]`) as the sum over the project's keys, for scripted traffic."""
    per_key = [key_stats_series(query, kt.segments, now=now) for kt in traffic]
    field = {"received": "total", "rejected": "dropped", "blacklisted": "filtered"}.get(query.stat)
    buckets = range(query.since - query.since % query.resolution, query.until - query.until % query.resolution + 1,
                    query.resolution)
    return [
        [bucket, sum(series[i][field] for series in per_key) if field else 0]
        for i, bucket in enumerate(buckets)
    ]


def parse_traffic(raw: Any) -> dict[str, tuple[TrafficSegment, ...]]:
    """`{"keys": {key_id: [{since, until?, accepted, filtered?, dropped?}, ...]}}` -> segments per key."""
    if not isinstance(raw, Mapping) or not isinstance(raw.get("keys"), Mapping):
        raise InvalidTraffic("expected {'keys': {<key id>: [{'since': epoch, 'until': epoch|null, 'accepted': n}]}}")
    parsed: dict[str, tuple[TrafficSegment, ...]] = {}
    for key_id, segments in raw["keys"].items():
        if not isinstance(segments, list):
            raise InvalidTraffic(f"keys.{key_id}: expected a list of segments")
        parsed[str(key_id)] = tuple(_segment(item, f"keys.{key_id}[{i}]") for i, item in enumerate(segments))
    return parsed


def _segment(item: Any, where: str) -> TrafficSegment:
    if not isinstance(item, Mapping):
        raise InvalidTraffic(f"{where}: expected an object")
    unknown = sorted(set(item) - {"since", "until", "accepted", "filtered", "dropped"})
    if unknown:
        raise InvalidTraffic(f"{where}: unknown fields {unknown}")
    since, until = item.get("since"), item.get("until")
    if not _number(since) or not (until is None or _number(until)):
        raise InvalidTraffic(f"{where}: 'since' (and 'until', if given) must be epoch seconds")
    rates = {name: item.get(name, 0) for name in _OUTCOMES}
    if any(not isinstance(v, int) or isinstance(v, bool) or v < 0 for v in rates.values()):
        raise InvalidTraffic(f"{where}: accepted, filtered and dropped are events per hour, whole and >= 0")
    return TrafficSegment(since=float(since or 0), until=None if until is None else float(until), **rates)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
