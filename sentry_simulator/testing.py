"""Run the simulator from tests and demos, in a thread or as a process.

`running_simulator` is for tests that want a fresh Sentry per test in a few
milliseconds; `start_simulator_process` is for end-to-end runs where the code
under test (a Pulumi provider) lives in another process and must reach the
simulator over the network exactly as it would reach sentry.io. Both hand out
a `SimulatorAdmin` that drives the `/_admin/` API over HTTP, so a test reads
the same in either mode.
"""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from urllib.parse import quote
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from .app import Simulator
from .limits import DEFAULT_RATE_WINDOW
from .seed import Seed, parse_seed
from .server import create_server

__all__ = [
    "RunningSimulator",
    "SimulatorAdmin",
    "SimulatorAdminError",
    "SimulatorProcess",
    "running_simulator",
    "simulator_process",
    "start_simulator_process",
    "stop_simulator_process",
]

_READY_PREFIX = "sentry-simulator listening on "


def _q(segment: str) -> str:
    return quote(segment, safe="")


class SimulatorAdminError(RuntimeError):
    """An admin call was refused (unknown project or key, invalid fault)."""


class SimulatorAdmin:
    """Client of the `/_admin/` API at a simulator's base URL (prefix included)."""

    def __init__(self, base_url: str, *, timeout: float = 10.0) -> None:
        self._admin_url = base_url.rstrip("/") + "/_admin/"
        self._timeout = timeout

    def rotate_key(self, org: str, project: str, label: str = "Default", *, active: bool = True) -> dict[str, Any]:
        """Creates a key newer than every other key of the project and returns it, as Sentry would."""
        result: dict[str, Any] = self._call(
            "POST", f"projects/{_q(org)}/{_q(project)}/keys", {"label": label, "isActive": active}
        )
        return result

    def create_key(
        self, org: str, project: str, label: str, *, created: datetime, active: bool = True
    ) -> dict[str, Any]:
        """A rotation that began at `created` (in the past): replays hours of it in a test."""
        payload = {"label": label, "isActive": active, "dateCreated": created.isoformat()}
        result: dict[str, Any] = self._call("POST", f"projects/{_q(org)}/{_q(project)}/keys", payload)
        return result

    def set_traffic(self, org: str, project: str, keys: Mapping[str, Sequence[Mapping[str, Any]]]) -> None:
        """Scripts events per key (see traffic.py); `{}` goes back to the project's default."""
        self._call("PUT", f"projects/{_q(org)}/{_q(project)}/traffic", {"keys": keys})

    def rename_project(self, org: str, project: str, new_slug: str) -> dict[str, Any]:
        """Renames the project as Sentry's settings page would: its old slug then answers 302."""
        result: dict[str, Any] = self._call("POST", f"projects/{_q(org)}/{_q(project)}/rename", {"slug": new_slug})
        return result

    def set_key_active(self, org: str, project: str, key_id: str, active: bool) -> dict[str, Any]:
        result: dict[str, Any] = self._call(
            "PUT", f"projects/{_q(org)}/{_q(project)}/keys/{_q(key_id)}", {"isActive": active}
        )
        return result

    def inject_fault(
        self,
        *,
        status: int | None = None,
        count: int | None = 1,
        path_contains: str = "",
        retry_after: int | None = None,
        body: str | None = None,
        malformed: bool = False,
        endless_pages: bool = False,
        latency_ms: int | None = None,
        concurrent_limit: int | None = None,
        rate_limit: int | None = None,
        rate_window: int | None = None,
    ) -> dict[str, Any]:
        """Scripts failures; see `faults.py`. `count=None` fails every match until cleared."""
        payload: dict[str, Any] = {}
        if status is not None or malformed or endless_pages:
            payload.update(count=count, path_contains=path_contains, malformed=malformed)
            if endless_pages:
                payload["endless_pages"] = True
            if status is not None:
                payload["status"] = status
            if retry_after is not None:
                payload["retry_after"] = retry_after
            if body is not None:
                payload["body"] = body
        for name, value in (("latency_ms", latency_ms), ("concurrent_limit", concurrent_limit),
                            ("rate_limit", rate_limit), ("rate_window", rate_window)):
            if value is not None:
                payload[name] = value
        result: dict[str, Any] = self._call("POST", "faults", payload)
        return result

    def clear_faults(self) -> None:
        """Clears the scripted faults, limits and tampering rules."""
        self._call("POST", "faults/clear")

    def tamper(
        self,
        match: Mapping[str, Any],
        *,
        set: Mapping[str, Any] | None = None,
        drop: Sequence[str] = (),
        path_contains: str = "",
    ) -> None:
        """Rewrites matching objects of every answer from now on; see `tamper.py`."""
        payload = {"match": dict(match), "set": dict(set or {}), "drop": list(drop), "path_contains": path_contains}
        self._call("POST", "tamper", payload)

    def requests(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", "requests")
        return result

    def request_count(self) -> int:
        return int(self.requests()["total"])

    def request_span_seconds(self) -> float | None:
        """Seconds from the first request to the last answer since the last reset (None: no request)."""
        seen = self.requests()
        if seen.get("first_at") is None or seen.get("last_at") is None:
            return None
        return float(seen["last_at"]) - float(seen["first_at"])

    def reset_requests(self) -> None:
        self._call("POST", "requests/reset")

    def reset(self) -> None:
        """Back to the seed: keys, faults, limits and the request counter."""
        self._call("POST", "reset")

    def _call(self, method: str, path: str, payload: Mapping[str, Any] | None = None) -> Any:
        data = json.dumps(payload).encode() if payload is not None else b""
        request = urllib.request.Request(
            self._admin_url + path, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode(errors="replace")
            raise SimulatorAdminError(f"{method} /_admin/{path} failed with {exc.code}: {detail}") from exc


@dataclass(frozen=True)
class RunningSimulator:
    url: str  # base URL with trailing slash, prefix included: the client's `sentryUrl`
    admin: SimulatorAdmin
    simulator: Simulator  # in-process access to state and counters, for white-box assertions


@contextmanager
def running_simulator(
    seed: Mapping[str, Any] | Seed,
    *,
    prefix: str = "",
    host: str = "127.0.0.1",
    page_size: int | None = None,
    rate_limit: int | None = None,
    rate_window: int = DEFAULT_RATE_WINDOW,
    link_prefix: str | None = None,
    self_hosted: bool = False,
    key_stats: bool = True,
) -> Iterator[RunningSimulator]:
    """Serves `seed` on a free loopback port in a background thread; stopped on exit.

    See :class:`Simulator` for `rate_limit`, `link_prefix`, `self_hosted` and `key_stats`.
    """
    parsed = seed if isinstance(seed, Seed) else parse_seed(seed)
    simulator = Simulator(
        parsed,
        prefix=prefix,
        page_size=page_size,
        rate_limit=rate_limit,
        rate_window=rate_window,
        link_prefix=link_prefix,
        self_hosted=self_hosted,
        key_stats=key_stats,
    )
    server = create_server(simulator, host=host, port=0)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              name="sentry-simulator", daemon=True)
    thread.start()
    try:
        yield RunningSimulator(url=server.url, admin=SimulatorAdmin(server.url), simulator=simulator)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@dataclass(frozen=True)
class SimulatorProcess:
    process: subprocess.Popen[str]
    url: str
    admin: SimulatorAdmin


def start_simulator_process(
    seed_path: str | os.PathLike[str] | None,
    *,
    prefix: str = "",
    extra_args: Sequence[str] = (),
    startup_timeout: float = 15.0,
) -> tuple[subprocess.Popen[str], str]:
    """Starts `python -m sentry_simulator` on a free port; returns it and its base URL.

    The caller owns the process: stop it with `stop_simulator_process`.
    `seed_path=None` serves the demo seed (or only a generated org, when
    `extra_args` holds `--generate-projects`).
    """
    command = [sys.executable, "-m", "sentry_simulator", "--port", "0", *extra_args]
    if seed_path is not None:
        command += ["--seed", os.fspath(seed_path)]
    if prefix:
        command += ["--prefix", prefix]
    env = dict(os.environ)
    # Importable even when the package is not installed into this interpreter.
    package_root = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
    try:
        return process, _read_url(process, startup_timeout)
    except BaseException:
        stop_simulator_process(process)
        raise


def stop_simulator_process(process: subprocess.Popen[str], *, timeout: float = 5.0) -> int:
    """SIGTERM, then SIGKILL if it lingers; returns the exit code."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    if process.stdout is not None:
        process.stdout.close()
    return process.returncode


@contextmanager
def simulator_process(
    seed_path: str | os.PathLike[str] | None, *, prefix: str = "", extra_args: Sequence[str] = ()
) -> Iterator[SimulatorProcess]:
    process, url = start_simulator_process(seed_path, prefix=prefix, extra_args=extra_args)
    try:
        yield SimulatorProcess(process=process, url=url, admin=SimulatorAdmin(url))
    finally:
        stop_simulator_process(process)


def _read_url(process: subprocess.Popen[str], timeout: float) -> str:
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while time.monotonic() < deadline:
            if selector.select(timeout=max(0.0, deadline - time.monotonic())):
                line = process.stdout.readline()
                if line.startswith(_READY_PREFIX):
                    return line[len(_READY_PREFIX):].strip()
                if not line:
                    break
            if process.poll() is not None:
                break
    code = process.poll()
    state = f"exited with code {code}" if code is not None else f"did not start within {timeout:.0f}s"
    raise RuntimeError(f"sentry simulator {state}; see its stderr above")
