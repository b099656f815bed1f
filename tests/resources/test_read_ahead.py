"""ReadAhead: every secret read once, errors left to the check they belong to, nothing read twice on failure."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from types import MappingProxyType

import pytest

from sentry_dsn_sync.errors import VaultPermissionError
from sentry_dsn_sync.resources.read_ahead import THREADS, ReadAhead
from sentry_dsn_sync.vault import StoredSecret

WAIT = 5.0


class GatedStore:
    """A KV store in memory whose reads of `gated` paths wait for `gate`; records every read sent."""

    def __init__(self, secrets: dict[str, str], *, denied: Iterable[str] = (), gated: Iterable[str] = ()) -> None:
        self.mount = "secret"
        self.secrets = dict(secrets)
        self.denied = set(denied)
        self.gated = set(gated)
        self.sent: list[str] = []
        self.gate = threading.Event()
        self.gate.set()
        self.blocked = threading.Semaphore(0)
        self._lock = threading.Lock()
        self.all_sent = threading.Event()
        self.expected = len(secrets)
        # The reads sent through the cheaper `peek` (all of them are also in `sent`).
        self.peeked: list[str] = []

    def peek(self, path: str) -> StoredSecret | None:
        self.peeked.append(path)
        return self.read(path)

    def read(self, path: str) -> StoredSecret | None:
        if path in self.gated:
            self.blocked.release()
            assert self.gate.wait(WAIT)
        with self._lock:
            self.sent.append(path)
            if len(self.sent) >= self.expected:
                self.all_sent.set()
        if path in self.denied:
            raise VaultPermissionError(f"permission denied reading {path}")
        dsn = self.secrets.get(path)
        return None if dsn is None else StoredSecret(data=MappingProxyType({"dsn": dsn}))


def dsn_of(secret: StoredSecret | None) -> str | None:
    return None if secret is None else secret.data["dsn"]


def started(read_ahead: ReadAhead, store: GatedStore, paths: list[str]) -> None:
    read_ahead.start(("secret", 2), lambda: (store, paths))  # type: ignore[arg-type, return-value]


def read_ahead_done(store: GatedStore, paths: list[str]) -> ReadAhead:
    """A ReadAhead that has sent its reads of `paths` (or as many as `store.expected`)."""
    read_ahead = ReadAhead()
    started(read_ahead, store, paths)
    assert store.all_sent.wait(WAIT)
    return read_ahead


def test_each_secret_is_read_once_ahead_and_a_check_gets_that_read() -> None:
    store = GatedStore({f"p{i}": f"dsn-{i}" for i in range(20)})

    read_ahead = read_ahead_done(store, [f"p{i}" for i in range(20)])
    answers = [dsn_of(read_ahead.read(store, f"p{i}")) for i in range(20)]  # type: ignore[arg-type]

    assert answers == [f"dsn-{i}" for i in range(20)]
    assert sorted(store.sent) == sorted(f"p{i}" for i in range(20)), "one request per secret, none twice"


def test_reads_ahead_use_the_cheap_peek_and_a_check_reading_itself_uses_read() -> None:
    store = GatedStore({"p0": "dsn-0", "late": "dsn-late"})
    store.expected = 1
    read_ahead = read_ahead_done(store, ["p0"])

    assert dsn_of(read_ahead.read(store, "p0")) == "dsn-0"  # type: ignore[arg-type]
    assert dsn_of(read_ahead.read(store, "late")) == "dsn-late"  # type: ignore[arg-type]

    assert store.peeked == ["p0"]
    assert store.sent == ["p0", "late"], "the check's own read goes through `read`, which reports errors fully"


def test_a_second_start_for_the_same_store_reads_nothing_more() -> None:
    store = GatedStore({"p0": "dsn-0"})
    read_ahead = ReadAhead()

    started(read_ahead, store, ["p0"])
    started(read_ahead, store, ["p0"])
    assert store.all_sent.wait(WAIT)
    read_ahead.read(store, "p0")  # type: ignore[arg-type]

    assert store.sent == ["p0"]


def test_a_read_ahead_is_used_once_so_a_second_check_reads_afresh() -> None:
    store = GatedStore({"p0": "dsn-0"})
    read_ahead = read_ahead_done(store, ["p0"])

    read_ahead.read(store, "p0")  # type: ignore[arg-type]
    store.secrets["p0"] = "edited"

    assert dsn_of(read_ahead.read(store, "p0")) == "edited"  # type: ignore[arg-type]
    assert store.sent == ["p0", "p0"]


def test_a_path_not_read_ahead_is_read_by_its_check() -> None:
    store = GatedStore({"p0": "dsn-0", "extra": "dsn-extra"})
    store.expected = 1
    read_ahead = read_ahead_done(store, ["p0"])

    assert dsn_of(read_ahead.read(store, "extra")) == "dsn-extra"  # type: ignore[arg-type]
    assert store.sent == ["p0", "extra"]


def test_a_read_still_queued_is_cancelled_and_done_by_the_check_itself() -> None:
    # Both background threads block on p0 and p1, so p2.. wait in the queue.
    store = GatedStore({f"p{i}": f"dsn-{i}" for i in range(6)}, gated={"p0", "p1"})
    store.gate.clear()
    read_ahead = ReadAhead(threads=2)
    started(read_ahead, store, [f"p{i}" for i in range(6)])
    assert store.blocked.acquire(timeout=WAIT) and store.blocked.acquire(timeout=WAIT)

    answer = read_ahead.read(store, "p5")  # type: ignore[arg-type]
    sent_while_blocked = list(store.sent)
    store.gate.set()
    assert store.all_sent.wait(WAIT)

    assert dsn_of(answer) == "dsn-5"
    assert sent_while_blocked == ["p5"], "the check read it at once, without waiting for the queue"
    assert store.sent.count("p5") == 1, "and the queued read was not sent"


def test_reads_ahead_wait_for_a_slow_vault_several_at_once() -> None:
    # A Vault a network away: each read waits a round trip, and the engine checks a resource every few
    # milliseconds, so one read at a time would fall behind the checks.
    paths = [f"p{i}" for i in range(2 * THREADS)]
    store = GatedStore({path: f"dsn-{path}" for path in paths}, gated=paths)
    store.gate.clear()
    read_ahead = ReadAhead()

    started(read_ahead, store, paths)
    in_flight = sum(store.blocked.acquire(timeout=WAIT) for _ in range(THREADS))
    more = store.blocked.acquire(timeout=0.2)
    store.gate.set()
    assert store.all_sent.wait(WAIT)

    assert THREADS >= 8
    assert in_flight == THREADS, "as many reads wait at once as there are threads"
    assert not more, "and no more than that"


def test_the_first_failure_stops_the_read_ahead_and_each_check_reports_its_own_error() -> None:
    paths = [f"p{i}" for i in range(10)]
    store = GatedStore({path: f"dsn-{path}" for path in paths}, denied=paths)
    store.expected = 1
    read_ahead = ReadAhead(threads=2)

    started(read_ahead, store, paths)
    assert store.all_sent.wait(WAIT)
    errors = []
    for path in paths:
        with pytest.raises(VaultPermissionError) as caught:
            read_ahead.read(store, path)  # type: ignore[arg-type]
        errors.append(str(caught.value))

    assert errors == [f"permission denied reading {path}" for path in paths], "each check's own message"
    # At most the reads already sent when the first failed (two threads), then one per check.
    assert len(store.sent) <= len(paths) + 2


def test_a_store_that_cannot_be_opened_leaves_every_check_to_read_for_itself() -> None:
    store = GatedStore({"p0": "dsn-0"})
    read_ahead = ReadAhead()
    opened = threading.Event()

    def fail_to_open() -> tuple[GatedStore, list[str]]:
        opened.set()
        raise VaultPermissionError("permission denied logging in")

    read_ahead.start(("secret", 2), fail_to_open)  # type: ignore[arg-type]
    assert opened.wait(WAIT)

    assert dsn_of(read_ahead.read(store, "p0")) == "dsn-0"  # type: ignore[arg-type]
    assert store.sent == ["p0"]


def test_reset_forgets_what_was_read_ahead() -> None:
    store = GatedStore({"p0": "dsn-0"})
    read_ahead = read_ahead_done(store, ["p0"])

    read_ahead.reset()
    store.secrets["p0"] = "after reset"

    assert dsn_of(read_ahead.read(store, "p0")) == "after reset"  # type: ignore[arg-type]


def test_paths_are_read_as_they_come_so_those_known_at_once_are_not_held_back() -> None:
    # A team's projects come after Sentry answers; the configured ones are read meanwhile.
    store = GatedStore({"configured": "dsn-c", "on-team": "dsn-t"})
    sentry_answered = threading.Event()
    store.expected = 1

    def paths() -> Iterator[str]:
        yield "configured"
        assert sentry_answered.wait(WAIT)
        yield "on-team"

    read_ahead = ReadAhead()
    read_ahead.start(("secret", 2), lambda: (store, paths()))  # type: ignore[arg-type, return-value]
    assert store.all_sent.wait(WAIT)
    # A check meanwhile gets its read at once: waiting for the rest of the list holds nothing.
    configured = read_ahead.read(store, "configured")  # type: ignore[arg-type]
    sent_before_sentry = list(store.sent)
    store.all_sent.clear()
    store.expected = 2
    sentry_answered.set()
    assert store.all_sent.wait(WAIT)

    assert dsn_of(configured) == "dsn-c"
    assert sent_before_sentry == ["configured"]
    assert dsn_of(read_ahead.read(store, "on-team")) == "dsn-t"  # type: ignore[arg-type]
    assert store.sent == ["configured", "on-team"], "both read ahead, once"


def test_a_path_its_check_has_read_already_is_not_read_ahead_later() -> None:
    store = GatedStore({"first": "dsn-1", "second": "dsn-2"})
    listed = threading.Event()
    ended = threading.Event()

    def paths() -> Iterator[str]:
        assert listed.wait(WAIT)
        yield "first"
        yield "second"
        ended.set()

    read_ahead = ReadAhead()
    read_ahead.start(("secret", 2), lambda: (store, paths()))  # type: ignore[arg-type, return-value]
    # The first check finds nothing read yet and reads its secret itself.
    assert dsn_of(read_ahead.read(store, "first")) == "dsn-1"  # type: ignore[arg-type]
    listed.set()
    assert ended.wait(WAIT) and store.all_sent.wait(WAIT)

    assert dsn_of(read_ahead.read(store, "second")) == "dsn-2"  # type: ignore[arg-type]
    assert store.sent == ["first", "second"], "`first` read by its check alone"


def test_paths_that_fail_part_way_leave_the_rest_to_their_checks() -> None:
    store = GatedStore({"p0": "dsn-0", "p1": "dsn-1"})
    store.expected = 1

    def paths() -> Iterator[str]:
        yield "p0"
        raise RuntimeError("the list could not be finished")

    read_ahead = ReadAhead()
    read_ahead.start(("secret", 2), lambda: (store, paths()))  # type: ignore[arg-type, return-value]
    assert store.all_sent.wait(WAIT)

    assert dsn_of(read_ahead.read(store, "p0")) == "dsn-0"  # type: ignore[arg-type]
    assert dsn_of(read_ahead.read(store, "p1")) == "dsn-1"  # type: ignore[arg-type]
    assert store.sent == ["p0", "p1"]
