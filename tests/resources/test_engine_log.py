"""The provider process's log records reach the engine's Log call, each at its own severity, in order.

They are sent from a thread of their own, so a record made inside `check`
never waits for the engine; `flush` is where a call waits for delivery.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import pytest

from pulumi.runtime.proto import engine_pb2

from sentry_dsn_sync.resources import _engine_log as engine_log

PROVIDER_ARGV = ["/venv/lib/python3.11/site-packages/pulumi/dynamic/__main__.py", "127.0.0.1:40123"]


class FakeEngine:
    def __init__(self, *, answering: threading.Event | None = None, fails: bool = False) -> None:
        self.logged: list[Any] = []
        self.answering = answering
        self.fails = fails

    def Log(self, request: Any, timeout: float | None = None) -> None:  # noqa: N802 - the engine's RPC name
        if self.answering is not None:
            self.answering.wait(5)
        if self.fails:
            raise ConnectionError("engine gone")
        self.logged.append(request)


def logger_to(engine: FakeEngine) -> tuple[logging.Logger, engine_log.EngineLogHandler]:
    handler = engine_log.EngineLogHandler("127.0.0.1:1")
    handler._stub = engine
    logger = logging.Logger("probe")
    logger.addHandler(handler)
    return logger, handler


def test_the_engine_address_is_taken_only_in_the_dynamic_provider_process() -> None:
    assert engine_log._engine_address(PROVIDER_ARGV) == "127.0.0.1:40123"
    assert engine_log._engine_address(["/usr/bin/pytest", "127.0.0.1:40123"]) is None


def test_each_level_becomes_the_engines_severity_in_the_order_made() -> None:
    engine = FakeEngine()
    logger, handler = logger_to(engine)

    logger.debug("d")
    logger.info("i")
    logger.warning("w")
    logger.error("e")
    handler.flush()

    assert [(r.severity, r.message) for r in engine.logged] == [
        (engine_pb2.DEBUG, "d"), (engine_pb2.INFO, "i"), (engine_pb2.WARNING, "w"), (engine_pb2.ERROR, "e")
    ]


def test_a_record_does_not_wait_for_the_engine_and_flush_waits_for_delivery() -> None:
    answering = threading.Event()
    engine = FakeEngine(answering=answering)
    logger, handler = logger_to(engine)

    logger.warning("project 'web' has 2 active client keys")
    handler.flush(timeout=0.2)
    assert engine.logged == []  # the engine has not answered, and the caller went on

    answering.set()
    handler.flush()
    assert [r.message for r in engine.logged] == ["project 'web' has 2 active client keys"]


def test_a_record_the_engine_cannot_take_goes_to_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    logger, handler = logger_to(FakeEngine(fails=True))

    logger.warning("w")
    handler.flush()

    assert capsys.readouterr().err == "warning: w\n"


def test_logging_shutdown_at_exit_waits_for_what_is_left(monkeypatch: pytest.MonkeyPatch) -> None:
    answering = threading.Event()
    engine = FakeEngine(answering=answering)
    logger, handler = logger_to(engine)
    monkeypatch.setattr(logging, "_handlerList", [])
    logging._addHandlerRef(handler)  # as every Handler registers itself for the interpreter's exit

    logger.info("last words")
    threading.Timer(0.3, answering.set).start()  # a busy engine
    logging.shutdown()

    assert [r.message for r in engine.logged] == ["last words"]


def test_flush_outside_the_provider_process_returns_at_once() -> None:
    assert engine_log._installed is None
    engine_log.flush()
