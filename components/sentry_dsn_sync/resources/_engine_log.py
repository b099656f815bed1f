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
"""

from __future__ import annotations

import logging
import re
import sys
import threading
from typing import Any

__all__ = ["PACKAGE_LOGGER", "EngineLogHandler", "install"]

PACKAGE_LOGGER = "sentry_dsn_sync"
# The engine passes its own address as the provider's first argument (host:port).
_ADDRESS = re.compile(r"^[\w.\-\[\]:]+:\d+$")


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
        self._stub: Any = None
        self._stub_lock = threading.Lock()

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
        try:
            self._engine().Log(engine_pb2.LogRequest(severity=severity, message=self.format(record)))
        except Exception:  # the engine went away (end of run): stderr still reaches its output
            print(f"{record.levelname.lower()}: {self.format(record)}", file=sys.stderr, flush=True)

    def _engine(self) -> Any:
        with self._stub_lock:
            if self._stub is None:
                import grpc
                from pulumi.runtime.proto import engine_pb2_grpc

                self._stub = engine_pb2_grpc.EngineStub(grpc.insecure_channel(self._address))
            return self._stub


_installed = False
_install_lock = threading.Lock()


def install(argv: list[str] | None = None) -> bool:
    """Route the package's records to the engine, once per process; False when no engine address is known."""
    global _installed
    address = _engine_address(sys.argv if argv is None else argv)
    with _install_lock:
        if _installed or address is None:
            return _installed
        logger = logging.getLogger(PACKAGE_LOGGER)
        logger.addHandler(EngineLogHandler(address))
        logger.setLevel(logging.DEBUG)
        # The engine shows what it gets; the root logger's lastResort would print warnings twice.
        logger.propagate = False
        _installed = True
        return True
