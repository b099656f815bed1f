"""`python -m sentry_simulator` as end-to-end tests and the demo run it."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
from simulator_helpers import sentry_client

from sentry_simulator import DEMO_SEED_PATH
from sentry_simulator.testing import SimulatorAdmin, start_simulator_process, stop_simulator_process


def test_prints_one_ready_line_serves_and_exits_cleanly_on_sigterm() -> None:
    process, url = start_simulator_process(DEMO_SEED_PATH)
    try:
        assert url.startswith("http://127.0.0.1:") and url.endswith("/")
        with sentry_client(url) as http:
            assert http.get("api/0/projects/acme/web/keys/").status_code == 200
        assert SimulatorAdmin(url).request_count() == 1
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=5) == 0
        assert process.stdout is not None
        assert process.stdout.read() == ""  # nothing after the ready line
        stop_simulator_process(process)


def test_exits_cleanly_on_sigint() -> None:
    process, _ = start_simulator_process(DEMO_SEED_PATH)
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=5) == 0
    stop_simulator_process(process)


def test_prefix_is_part_of_the_printed_url_and_required_by_the_api() -> None:
    process, url = start_simulator_process(DEMO_SEED_PATH, prefix="/sentry/")
    try:
        assert url.endswith("/sentry/")
        with sentry_client(url) as http:
            response = http.get("api/0/organizations/acme/projects/")
            assert response.status_code == 200
            assert f"<{url}api/0/organizations/acme/projects/?&cursor=" in response.headers["link"]
        root = url.removesuffix("sentry/")
        assert httpx.get(root + "api/0/organizations/acme/projects/",
                         headers={"Authorization": "Bearer demo-token"}).status_code == 404
    finally:
        assert stop_simulator_process(process) == 0


def test_generate_projects_adds_a_benchmark_organization(tmp_path: Path) -> None:
    process, url = start_simulator_process(None, extra_args=["--generate-projects", "120"])
    try:
        with sentry_client(url, "bench-token") as http:
            response = http.get("api/0/organizations/bench/projects/")
            assert len(response.json()) == 100
            assert 'rel="next"; results="true"' in response.headers["link"]
    finally:
        stop_simulator_process(process)


def test_a_bad_seed_exits_2_with_the_field_named(tmp_path: Path) -> None:
    seed: dict[str, Any] = {"organizations": [{"projects": []}], "tokens": []}
    path = tmp_path / "seed.json"
    path.write_text(json.dumps(seed))
    result = subprocess.run([sys.executable, "-m", "sentry_simulator", "--seed", str(path)],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert "organizations[0].slug: required" in result.stderr
    assert result.stdout == ""


def test_link_prefix_and_self_hosted_flags_reach_the_server() -> None:
    process, url = start_simulator_process(
        DEMO_SEED_PATH, extra_args=["--link-prefix", "https://sentry.internal.invalid/", "--self-hosted"]
    )
    try:
        with sentry_client(url) as http:
            response = http.get("api/0/projects/acme/web/keys/", params={"per_page": 1})
        assert response.headers["link"].startswith("<https://sentry.internal.invalid/api/0/projects/acme/web/keys/?")
        assert not any(name.lower().startswith("x-sentry-rate-limit") for name in response.headers)
    finally:
        stop_simulator_process(process)
