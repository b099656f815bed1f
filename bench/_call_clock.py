"""Run the dynamic provider with the wall-clock start and end of every call the engine makes to it.

Run as a script, not imported: `python _call_clock.py OUT pulumi.dynamic ARGS...`.
The provider's servicer is wrapped as it is handed to the gRPC server, so the
tool's provider and the floor's are timed by the same code and neither is
changed. Each call appends `method start end` (seconds since the epoch) to OUT
as it ends: the engine kills providers, so nothing waits for a clean exit.
"""

from __future__ import annotations

import functools
import os
import runpy
import sys
import threading
import time
from collections.abc import Callable
from typing import Any, TextIO

from pulumi.runtime.proto import provider_pb2_grpc

# The calls whose order the engine sets, one resource after another.
TIMED = ("Check", "Diff", "Create", "Update", "Delete", "Read")
# A gRPC servicer method: (request, context) -> response.
_Method = Callable[[Any, Any], Any]


def _timed(method: _Method, name: str, out: TextIO, lock: threading.Lock) -> _Method:
    @functools.wraps(method)
    def call(request: Any, context: Any) -> Any:
        started = time.time()
        try:
            return method(request, context)
        finally:
            line = f"{name} {started:.6f} {time.time():.6f}\n"
            with lock:
                out.write(line)

    return call


def main() -> None:
    out = open(sys.argv[1], "a", buffering=1)  # noqa: SIM115 - open for the process's life
    target = sys.argv[2]
    sys.argv = [target, *sys.argv[3:]]
    # What `python -m` would have put first on the path.
    sys.path.insert(0, os.getcwd())
    lock = threading.Lock()
    register = provider_pb2_grpc.add_ResourceProviderServicer_to_server

    def register_timed(servicer: Any, server: Any) -> None:
        for name in TIMED:
            setattr(servicer, name, _timed(getattr(servicer, name), name, out, lock))
        register(servicer, server)

    provider_pb2_grpc.add_ResourceProviderServicer_to_server = register_timed
    runpy.run_module(target, run_name="__main__", alter_sys=True)


main()
