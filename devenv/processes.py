"""The processes of one session, to find or to kill all at once, as a runner that dies takes them all.

A test that starts `pulumi` with `start_new_session=True` owns every process
of that run through the session id. Not through the process group: the CLI
starts each plugin (the language host, the program, every provider) in a
process group of its own, so a signal to the CLI's group leaves them running.
"""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["SessionProcess", "kill_session", "session_processes"]

_PROC = Path("/proc")


@dataclass(frozen=True)
class SessionProcess:
    pid: int
    command: str


def session_processes(session: int) -> list[SessionProcess]:
    """The live processes (zombies left out) whose session id is `session`, with their command lines."""
    found = []
    for entry in _PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            # `pid (comm) state ppid pgrp session ...`: the name may hold spaces, so split after it.
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue  # gone meanwhile
        if fields[0] != "Z" and int(fields[3]) == session:
            found.append(SessionProcess(int(entry.name), command))
    return found


def kill_session(session: int, *, timeout: float = 10.0) -> None:
    """SIGKILL every process of `session` until none is left (one may start another meanwhile)."""
    deadline = time.monotonic() + timeout
    while processes := session_processes(session):
        if time.monotonic() > deadline:
            raise TimeoutError(f"still running after SIGKILL: {processes}")
        for process in processes:
            try:
                os.kill(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.02)
