"""Per-key stats: the private endpoint Sentry's Client Keys page reads, and the traffic behind it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from simulator_helpers import sentry_client

from sentry_simulator.testing import RunningSimulator, SimulatorAdminError

DAY = 1_760_054_400  # 2025-10-10T00:00:00Z, after every demo key was created
HOUR = 3600


def _keys(sim: RunningSimulator, project: str) -> list[dict[str, Any]]:
    with sentry_client(sim.url) as http:
        keys: list[dict[str, Any]] = http.get(f"api/0/projects/acme/{project}/keys/").json()
    return keys


def _key_stats(sim: RunningSimulator, project: str, key_id: str, **params: Any) -> list[dict[str, int]]:
    with sentry_client(sim.url) as http:
        response = http.get(f"api/0/projects/acme/{project}/keys/{key_id}/stats/", params=params)
    assert response.status_code == 200, response.text
    series: list[dict[str, int]] = response.json()
    return series


def test_buckets_have_sentrys_shape_in_its_order_and_default_to_a_day(simulator: RunningSimulator) -> None:
    (key,) = _keys(simulator, "worker")
    daily = _key_stats(simulator, "worker", key["id"], since=DAY, until=DAY)
    assert daily == [{"ts": DAY, "total": 24 * 90, "dropped": 0, "accepted": 24 * 90, "filtered": 0}]
    assert list(daily[0]) == ["ts", "total", "dropped", "accepted", "filtered"]
    hourly = _key_stats(simulator, "worker", key["id"], since=DAY, until=DAY + 2 * HOUR, resolution="1h")
    assert [b["ts"] for b in hourly] == [DAY, DAY + HOUR, DAY + 2 * HOUR]


def test_a_projects_traffic_is_on_the_key_that_was_newest_at_the_time(simulator: RunningSimulator) -> None:
    new, old = _keys(simulator, "web")  # newest first; the new key dates from 2025-06-01 08:30
    rotation = int(datetime(2025, 6, 1, 8, 30, tzinfo=UTC).timestamp())
    span = {"since": rotation - 2 * HOUR - 1800, "until": rotation + HOUR, "resolution": "1h"}
    on_old = [b["total"] for b in _key_stats(simulator, "web", old["id"], **span)]
    on_new = [b["total"] for b in _key_stats(simulator, "web", new["id"], **span)]
    # Buckets 06:00, 07:00, 08:00 (split at 08:30), 09:00: 240 an hour in all, moving at the rotation.
    assert on_old == [240, 240, 120, 0]
    assert on_new == [0, 0, 120, 240]


def test_scripted_traffic_replaces_the_default_and_project_stats_sum_the_keys(simulator: RunningSimulator) -> None:
    new, old = _keys(simulator, "web")
    simulator.admin.set_traffic("acme", "web", {
        old["id"]: [{"since": DAY, "until": DAY + 2 * HOUR, "accepted": 100, "dropped": 20}],
        new["id"]: [{"since": DAY + HOUR, "accepted": 50, "filtered": 10}],
    })
    span = {"since": DAY, "until": DAY + 2 * HOUR, "resolution": "1h"}

    assert _key_stats(simulator, "web", old["id"], **span) == [
        {"ts": DAY, "total": 120, "dropped": 20, "accepted": 100, "filtered": 0},
        {"ts": DAY + HOUR, "total": 120, "dropped": 20, "accepted": 100, "filtered": 0},
        {"ts": DAY + 2 * HOUR, "total": 0, "dropped": 0, "accepted": 0, "filtered": 0},
    ]
    assert [b["total"] for b in _key_stats(simulator, "web", new["id"], **span)] == [0, 60, 60]
    with sentry_client(simulator.url) as http:
        received = http.get("api/0/projects/acme/web/stats/", params={**span, "stat": "received"}).json()
        rejected = http.get("api/0/projects/acme/web/stats/", params={**span, "stat": "rejected"}).json()
    assert [c for _, c in received] == [120, 180, 60]
    assert [c for _, c in rejected] == [20, 20, 0]

    simulator.admin.set_traffic("acme", "web", {})  # back to the default
    assert [b["total"] for b in _key_stats(simulator, "web", new["id"], **span)] == [240, 240, 240]


def test_events_after_now_have_not_arrived_yet(simulator: RunningSimulator) -> None:
    (key,) = _keys(simulator, "worker")
    now = datetime.now(UTC).timestamp()
    current = int(now) - int(now) % HOUR
    (bucket,) = _key_stats(simulator, "worker", key["id"], since=current, until=current, resolution="1h")
    assert bucket["total"] <= 90 * (now - current) / HOUR + 1


def test_a_backdated_key_replays_a_rotation_that_began_hours_ago(simulator: RunningSimulator) -> None:
    created = datetime(2025, 10, 10, 3, 0, tzinfo=UTC)
    key = simulator.admin.create_key("acme", "billing", "Rotation", created=created)
    assert key["dateCreated"] == "2025-10-10T03:00:00.000000Z"
    series = _key_stats(simulator, "billing", key["id"], since=DAY + 2 * HOUR, until=DAY + 4 * HOUR, resolution="1h")
    assert [b["total"] for b in series] == [0, 12, 12]


@pytest.mark.parametrize(
    ("path", "params", "status", "detail"),
    [
        ("projects/acme/web/keys/00000000000000000000000000000000/stats/", {}, 404, "does not exist"),
        ("projects/acme/nope/keys/abc/stats/", {}, 404, "does not exist"),
        ("projects/acme/worker/keys/{key}/stats/", {"resolution": "2h"}, 400, "Invalid request data"),
        ("projects/acme/worker/keys/{key}/stats/", {"since": "yesterday"}, 400, "Invalid request data"),
    ],
    ids=["unknown-key", "unknown-project", "bad-resolution", "bad-since"],
)
def test_errors_answer_like_sentry(
    simulator: RunningSimulator, path: str, params: dict[str, str], status: int, detail: str
) -> None:
    (key,) = _keys(simulator, "worker")
    with sentry_client(simulator.url) as http:
        response = http.get("api/0/" + path.format(key=key["id"]), params=params)
    assert response.status_code == status and detail in response.json()["detail"]


def test_the_endpoint_needs_a_project_scope(simulator: RunningSimulator) -> None:
    (key,) = _keys(simulator, "worker")
    with sentry_client(simulator.url, token="org-only-token") as http:
        assert http.get(f"api/0/projects/acme/worker/keys/{key['id']}/stats/").status_code == 403


def test_traffic_for_a_key_of_another_project_is_refused(simulator: RunningSimulator) -> None:
    (worker_key,) = _keys(simulator, "worker")
    with pytest.raises(SimulatorAdminError, match="404"):
        simulator.admin.set_traffic("acme", "web", {worker_key["id"]: [{"since": DAY, "accepted": 1}]})
    with pytest.raises(SimulatorAdminError, match="400"):
        simulator.admin.set_traffic("acme", "worker", {worker_key["id"]: [{"since": "noon", "accepted": 1}]})


def test_every_dsn_form_is_built_the_way_sentry_builds_it(simulator: RunningSimulator) -> None:
    (key,) = _keys(simulator, "worker")
    public, dsn = key["public"], key["dsn"]
    api = dsn["public"].replace(f"{public}@", "").rsplit("/", 1)[0] + f"/api/{key['projectId']}"
    assert dsn["crons"] == f"{api}/cron/___MONITOR_SLUG___/{public}/"
    assert dsn["csp"] == f"{api}/csp-report/?sentry_key={public}"
    assert dsn["otlp_logs"] == f"{api}/integration/otlp/v1/logs"
    assert dsn["cdn"] == f"https://js.sentry-cdn.com/{public}.min.js"
