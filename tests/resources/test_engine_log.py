"""The provider process's log records reach the engine's Log call, each at its own severity."""

from __future__ import annotations

import logging
from typing import Any

from pulumi.runtime.proto import engine_pb2

from sentry_dsn_sync.resources import _engine_log as engine_log

PROVIDER_ARGV = ["/venv/lib/python3.11/site-packages/pulumi/dynamic/__main__.py", "127.0.0.1:40123"]


class FakeEngine:
    def __init__(self) -> None:
        self.logged: list[Any] = []

    def Log(self, request: Any) -> None:  # noqa: N802 - the engine's RPC name
        self.logged.append(request)


def test_the_engine_address_is_taken_only_in_the_dynamic_provider_process() -> None:
    assert engine_log._engine_address(PROVIDER_ARGV) == "127.0.0.1:40123"
    assert engine_log._engine_address(["/usr/bin/pytest", "127.0.0.1:40123"]) is None


def test_each_level_becomes_the_engines_severity() -> None:
    handler = engine_log.EngineLogHandler("127.0.0.1:1")
    engine = FakeEngine()
    handler._stub = engine
    logger = logging.Logger("probe")
    logger.addHandler(handler)

    logger.debug("d")
    logger.info("i")
    logger.warning("w")
    logger.error("e")

    assert [(r.severity, r.message) for r in engine.logged] == [
        (engine_pb2.DEBUG, "d"), (engine_pb2.INFO, "i"), (engine_pb2.WARNING, "w"), (engine_pb2.ERROR, "e")
    ]
