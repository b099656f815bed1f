"""Project stats are deterministic series derived from the seed's hourly rate."""

from __future__ import annotations

from typing import Any

from simulator_helpers import sentry_client

from sentry_simulator.testing import RunningSimulator, running_simulator

DAY = 1_760_054_400  # 2025-10-10T00:00:00Z, after every demo key was created
HOUR = 3600


def _stats(sim: RunningSimulator, project: str, **params: Any) -> list[list[int]]:
    with sentry_client(sim.url) as http:
        response = http.get(f"api/0/projects/acme/{project}/stats/", params=params)
    assert response.status_code == 200, response.text
    series: list[list[int]] = response.json()
    return series


def test_hourly_buckets_carry_the_seeded_rate_and_cover_the_range_inclusively(simulator: RunningSimulator) -> None:
    series = _stats(simulator, "web", resolution="1h", since=DAY, until=DAY + 23 * HOUR)
    assert [ts for ts, _ in series] == [DAY + h * HOUR for h in range(24)]
    assert {count for _, count in series} == {240}


def test_bucket_sizes_add_up_to_the_same_totals(simulator: RunningSimulator) -> None:
    fine = _stats(simulator, "billing", resolution="10s", since=DAY, until=DAY + HOUR - 10)
    hourly = _stats(simulator, "billing", resolution="1h", since=DAY, until=DAY)
    daily = _stats(simulator, "billing", resolution="1d", since=DAY, until=DAY)
    assert len(fine) == 360
    assert sum(c for _, c in fine) == hourly[0][1] == 12
    assert daily == [[DAY, 24 * 12]]


def test_a_silent_project_receives_nothing_after_its_key_changes(simulator: RunningSimulator) -> None:
    before = _stats(simulator, "mobile", resolution="1h", since=DAY, until=DAY + 2 * HOUR)
    assert [c for _, c in before] == [0, 0, 0]  # its only key dates from 2024: silent since

    simulator.admin.rotate_key("acme", "worker", "Rotation")  # worker is not silent
    worker = _stats(simulator, "worker", resolution="1h", since=DAY, until=DAY + 2 * HOUR)
    assert [c for _, c in worker] == [90, 90, 90]


def test_silence_starts_at_the_rotation(demo_seed: dict[str, Any]) -> None:
    demo_seed["organizations"][0]["projects"][3]["keys"].append(
        {"label": "New", "isActive": True, "dateCreated": "2025-10-10T05:30:00Z"}
    )
    with running_simulator(demo_seed) as sim:
        series = _stats(sim, "mobile", resolution="1h", since=DAY, until=DAY + 7 * HOUR)
    assert [c for _, c in series] == [45] * 6 + [0, 0]


def test_other_stats_are_zero_and_defaults_cover_the_last_day(simulator: RunningSimulator) -> None:
    rejected = _stats(simulator, "api", stat="rejected", resolution="1h", since=DAY, until=DAY + HOUR)
    assert rejected == [[DAY, 0], [DAY + HOUR, 0]]
    default = _stats(simulator, "api")
    assert len(default) in (24, 25)  # hourly over the last day, both ends included
    assert all(count == 600 for _, count in default[1:-1])


def test_stats_are_the_same_on_every_call(simulator: RunningSimulator) -> None:
    params = {"resolution": "10s", "since": DAY + 123, "until": DAY + 1800}
    assert _stats(simulator, "web", **params) == _stats(simulator, "web", **params)


def test_invalid_stats_parameters_are_400(simulator: RunningSimulator) -> None:
    with sentry_client(simulator.url) as http:
        for query in ("stat=bogus", "resolution=5m", "since=yesterday", "since=10&until=5",
                      "resolution=10s&since=0&until=1000000"):
            response = http.get(f"api/0/projects/acme/web/stats/?{query}")
            assert response.status_code == 400, query
            assert response.json()["detail"]
