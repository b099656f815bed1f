"""The simulator stays cheap at benchmark size, so benchmarks measure the client."""

from __future__ import annotations

import time

from simulator_helpers import link_entries, sentry_client

from sentry_simulator import generate_seed
from sentry_simulator.testing import running_simulator


def test_500_projects_and_1000_keys_are_listed_in_ten_pages_quickly() -> None:
    seed = generate_seed(projects=500, keys_per_project=2, token="demo-token")
    with running_simulator(seed) as sim, sentry_client(sim.url) as http:
        started = time.perf_counter()
        url: str | None = "api/0/organizations/bench/project-keys/?per_page=100"
        pages = 0
        keys = 0
        while url:
            response = http.get(url)
            pages, keys = pages + 1, keys + len(response.json())
            following = link_entries(response.headers["link"])["next"]
            url = following["url"] if following["results"] == "true" else None
        elapsed = time.perf_counter() - started

    assert (pages, keys) == (10, 1000)
    assert elapsed < 2.0, f"{elapsed:.2f}s for 10 pages"
