"""Send the package's log records from the dynamic-provider process to the Pulumi engine's log.

The libraries (`sentry/`, `vault/`) log through the standard `logging` module
and know nothing of Pulumi. In the provider process `pulumi.log` has no engine
connection (the SDK configures that process without one), so this handler
speaks the engine's `Log` call itself, at the address the engine started the
provider with. Warnings and infos then appear in `pulumi up`'s output like
the program's own; debug lines only with `pulumi up --debug`, or in the
engine's log with `-v=9 --logtostderr`. Nothing that might be a credential is
ever formatted into a record: callers name where a credential came from, never
its value.

Records are sent from a thread of their own, in the order they were made:
the engine checks resources one at a time, so a round trip to it inside
`check` would hold up every resource after, and a stack whose projects each
warn (several active keys) would pay one per project. `flush` waits for
delivery; the provider calls it where the engine must have a call's records
before the call's answer (see `resources.project_dsn`), and
`logging.shutdown` calls it at exit. A record the engine can no longer take
is printed to stderr, which the CLI shows too.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
from collections import deque
from typing import Any

__all__ = ["PACKAGE_LOGGER", "EngineLogHandler", "flush", "install"]

PACKAGE_LOGGER = "sentry_dsn_sync"
# The engine passes its own address as the provider's first argument (host:port).
_ADDRESS = re.compile(r"^[\w.\-\[\]:]+:\d+$")
# An engine that takes longer than this for one log line is stuck; the line then goes to stderr.
_SEND_TIMEOUT_SECONDS = 30.0
# At exit the engine waits 5 s for its plugins before it kills them.
_FLUSH_TIMEOUT_SECONDS = 4.0


def _engine_address(argv: list[str]) -> str | None:
    """The engine's address, when this process is the dynamic provider (`python -m pulumi.dynamic <address>`)."""
    if not argv or not argv[0].replace("\\", "/").endswith("pulumi/dynamic/__main__.py"):
        return None
    return next((arg for arg in argv[1:] if _ADDRESS.match(arg)), None)


class EngineLogHandler(logging.Handler):
    """Each record becomes one engine log message (DEBUG, INFO, WARNING or ERROR) on no resource."""

    def __init__(self, address: str) -> None:
        super().__init__(level=logging.DEBUG)
        self._address = address
        self._stub: Any = None  # made by the sender thread, the only one that calls the engine
        # Records waiting for the sender, and how many were queued and sent so far.
        self._queue: deque[tuple[Any, str]] = deque()
        self._queued = 0
        self._sent = 0
        self._changed = threading.Condition()
        self._sender: threading.Thread | None = None

    def emit(self, record: logging.LogRecord) -> None:
        from pulumi.runtime.proto import engine_pb2

        severity = (
            engine_pb2.ERROR
            if record.levelno >= logging.ERROR
            else engine_pb2.WARNING
            if record.levelno >= logging.WARNING
            else engine_pb2.INFO
            if record.levelno >= logging.INFO
            else engine_pb2.DEBUG
        )
        entry = (engine_pb2.LogRequest(severity=severity, message=self.format(record)), record.levelname.lower())
        with self._changed:
            self._queue.append(entry)
            self._queued += 1
            if self._sender is None:
                # A daemon: it must never keep the provider alive; exit still flushes (see `flush`).
                self._sender = threading.Thread(target=self._send_forever, name="engine-log", daemon=True)
                self._sender.start()
            self._changed.notify_all()

    def flush(self, timeout: float | None = _FLUSH_TIMEOUT_SECONDS) -> None:
        """Return once every record made before this call has reached the engine (or stderr)."""
        with self._changed:
            target = self._queued
            self._changed.wait_for(lambda: self._sent >= target, timeout)

    def _send_forever(self) -> None:
        while True:
            with self._changed:
                self._changed.wait_for(lambda: bool(self._queue))
                request, level = self._queue.popleft()
            self._send(request, level)
            with self._changed:
                self._sent += 1
                self._changed.notify_all()

    def _send(self, request: Any, level: str) -> None:
        try:
            self._engine().Log(request, timeout=_SEND_TIMEOUT_SECONDS)
        except Exception:  # the engine went away (end of run): stderr still reaches its output
            print(f"{level}: {request.message}", file=sys.stderr, flush=True)

    def _engine(self) -> Any:
        if self._stub is None:
            import grpc
            from pulumi.runtime.proto import engine_pb2_grpc

            self._stub = engine_pb2_grpc.EngineStub(grpc.insecure_channel(self._address))
        return self._stub


_installed: EngineLogHandler | None = None
_install_lock = threading.Lock()


def install(argv: list[str] | None = None) -> bool:
    """Route the package's records to the engine, once per process; False when no engine address is known."""
    global _installed
    address = _engine_address(sys.argv if argv is None else argv)
    with _install_lock:
        if _installed is not None or address is None:
            return _installed is not None
        logger = logging.getLogger(PACKAGE_LOGGER)
        _installed = EngineLogHandler(address)
        logger.addHandler(_installed)
        logger.setLevel(logging.DEBUG)
        # The engine shows what it gets; the root logger's lastResort would print warnings twice.
        logger.propagate = False
        return True


def flush() -> None:
    """Wait until the records made so far have reached the engine; nothing to do outside the provider."""
    handler = _installed
    if handler is not None:
        handler.flush(timeout=None)  # each send is bounded by its own timeout
