"""Peak memory and CPU time of the processes one pulumi command starts, read from /proc.

The dynamic provider process lives only as long as one command, so a poller
samples it while it runs. Processes are recognised by a marker in their
environment (the engine passes its environment on to plugins and the program),
so the pulumi runs of anyone else on the machine are never counted.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["ProcessStats", "ProcessWatcher", "cpu_seconds_of", "role_of"]

_TICKS = os.sysconf("SC_CLK_TCK")


def role_of(cmdline: bytes) -> str | None:
    """Which part of a Python Pulumi run a process is, from its NUL-separated command line.

    `engine` is the `pulumi` CLI itself, where the engine, its display and the
    state's saves run; its language host and plugin launchers are not counted.
    """
    if b"pulumi.dynamic" in cmdline:
        return "provider"
    if b"pulumi-language-python-exec" in cmdline:
        return "program"
    if os.path.basename(cmdline.split(b"\0", 1)[0]) == b"pulumi":
        return "engine"
    return None


def cpu_seconds_of(pid: int, *, proc: Path = Path("/proc")) -> float:
    """User plus system CPU seconds process `pid` has used so far (a long-lived server, say)."""
    return _cpu_seconds(_stat_fields((proc / str(pid) / "stat").read_text()))


def _stat_fields(stat: str) -> list[str]:
    """The fields of /proc/<pid>/stat after `comm`, which may itself hold spaces and parentheses."""
    return stat.rsplit(")", 1)[1].split()


def _cpu_seconds(fields: list[str]) -> float:
    # utime and stime, fields 14 and 15 of the whole line.
    return (int(fields[11]) + int(fields[12])) / _TICKS


@dataclass
class ProcessStats:
    """Per role: the highest VmHWM seen (kB) and the CPU seconds of every such process."""

    peak_rss_kb: dict[str, int] = field(default_factory=dict)
    cpu_seconds: dict[str, float] = field(default_factory=dict)


class ProcessWatcher:
    """Polls /proc in a thread between `start()` and `stop()`."""

    def __init__(self, marker: str, *, interval: float = 0.05) -> None:
        self._marker = marker.encode()
        self._interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._seen: dict[tuple[int, str], str | None] = {}
        self._hwm: dict[tuple[int, str], int] = {}
        self._cpu: dict[tuple[int, str], float] = {}

    def start(self) -> None:
        self._stop.clear()
        self._hwm.clear()
        self._cpu.clear()
        self._thread = threading.Thread(target=self._run, name="bench-procwatch", daemon=True)
        self._thread.start()

    def stop(self) -> ProcessStats:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        stats = ProcessStats()
        for key, kb in self._hwm.items():
            role = self._seen[key]
            assert role is not None
            stats.peak_rss_kb[role] = max(stats.peak_rss_kb.get(role, 0), kb)
        for key, seconds in self._cpu.items():
            role = self._seen[key]
            assert role is not None
            stats.cpu_seconds[role] = stats.cpu_seconds.get(role, 0.0) + seconds
        return stats

    def _run(self) -> None:
        while not self._stop.is_set():
            self._poll()
            self._stop.wait(self._interval)
        self._poll()

    def _poll(self) -> None:
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                self._sample(Path(entry.path))
            except OSError:
                continue  # the process ended between listing and reading: nothing to lose

    def _sample(self, proc: Path) -> None:
        stat = (proc / "stat").read_text()
        # Field 22 (starttime) makes the key survive pid reuse; fields after `comm` are space-separated.
        fields = _stat_fields(stat)
        key = (int(proc.name), fields[19])
        if key not in self._seen:
            environ = (proc / "environ").read_bytes()
            self._seen[key] = role_of((proc / "cmdline").read_bytes()) if self._marker in environ else None
        if self._seen[key] is None:
            return
        self._cpu[key] = _cpu_seconds(fields)
        for line in (proc / "status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                self._hwm[key] = max(self._hwm.get(key, 0), int(line.split()[1]))
                break
