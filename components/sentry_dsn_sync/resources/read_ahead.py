"""Read, in the background, the Vault secrets that this run's checks are about to compare.

The check of every resource already published reads its secret, so that a
hand edit shows in a plain `pulumi preview`. Done on the check's own thread,
that puts one Vault round trip per project on the engine's path: at 500
projects it was the largest part of a no-op `up` beyond the engine's own
cost. So the first such check starts reading the secrets of every project the
stack configures (or a program planned for its own settings), in order,
several at once. That overlaps with the organization read from Sentry, and
later checks find their secret read. A `team`'s projects follow once Sentry's
project list names them: the paths are taken as they come, so the configured
ones are not held back.

Nothing is read that the checks would not read anyway (nor what a check
has already read for itself), and each read ahead is used once. A check whose
secret was not read ahead, or whose read ahead failed, reads it itself, so an
error still surfaces in that check with its own message; the first failure
stops the rest, so a Vault that refuses reads is not asked twice for each. A
secret read ahead is at most seconds older than its check, and serves only to
show drift: publishing reads again and writes with check-and-set.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Hashable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sentry_dsn_sync.vault import KvStore, StoredSecret

__all__ = ["THREADS", "ReadAhead"]

_log = logging.getLogger(__name__)

# Reads in flight at once. A Vault some network away takes tens of milliseconds a read, and the
# engine checks a resource every few: eight keep ahead of it up to a round trip of about 40 ms.
THREADS = 8


class _Stopped(Exception):
    """An earlier read of the same batch failed; this one was not sent."""


class _Batch:
    """The reads started for one store: path -> the future of its secret."""

    def __init__(self) -> None:
        self.reads: dict[str, Future[StoredSecret | None]] = {}
        self.failed = threading.Event()


class ReadAhead:
    """Secrets read ahead, per store, for one provider process."""

    def __init__(self, *, threads: int = THREADS) -> None:
        self._threads = threads
        self._lock = threading.Lock()
        self._started: dict[Hashable, _Batch] = {}
        self._by_store: dict[KvStore, _Batch] = {}
        # Paths a check has read, so a read ahead scheduled later leaves them out.
        self._read_by_checks: dict[KvStore, set[str]] = {}
        self._executor: ThreadPoolExecutor | None = None

    def start(self, key: Hashable, open_store: Callable[[], tuple[KvStore, Iterable[str]]]) -> None:
        """Start reading, unless already started under `key`; returns at once.

        `open_store` runs on a background thread, so a check never waits for a
        login or a slow Vault here: it returns the store and the paths to read.
        """
        with self._lock:
            if key in self._started:
                return
            batch = self._started[key] = _Batch()
            executor = self._executor_locked()
        executor.submit(self._schedule, batch, open_store)

    def read(self, store: KvStore, path: str) -> StoredSecret | None:
        """The secret at `path` of `store`: as read ahead when it was, else read now."""
        with self._lock:
            self._read_by_checks.setdefault(store, set()).add(path)
            batch = self._by_store.get(store)
            future = batch.reads.pop(path, None) if batch is not None else None
        # A read still queued is cancelled and done here and now: no point waiting behind others.
        if future is not None and not future.cancel():
            try:
                return future.result()
            except Exception:  # noqa: BLE001 - read again below, so the error is this check's own
                pass
        return store.read(path)

    def reset(self) -> None:
        """Forget every read (a new config may point at another Vault)."""
        with self._lock:
            for batch in self._started.values():
                batch.failed.set()
                for future in batch.reads.values():
                    future.cancel()
            self._started.clear()
            self._by_store.clear()
            self._read_by_checks.clear()

    def _schedule(self, batch: _Batch, open_store: Callable[[], tuple[KvStore, Iterable[str]]]) -> None:
        try:
            store, paths = open_store()
        except Exception:  # noqa: BLE001 - each check opens the store itself and reports why it failed
            batch.failed.set()
            return
        with self._lock:
            if batch.failed.is_set():
                return
            self._by_store[store] = batch
            executor = self._executor_locked()
            read_by_checks = self._read_by_checks.setdefault(store, set())
        # Taken outside the lock: the paths may wait for Sentry (a team's projects).
        scheduled = 0
        try:
            for path in paths:
                with self._lock:
                    if batch.failed.is_set():
                        return
                    if path not in batch.reads and path not in read_by_checks:
                        batch.reads[path] = executor.submit(_read, store, path, batch)
                        scheduled += 1
        except Exception:  # noqa: BLE001 - the paths not scheduled are read by their own checks
            return
        _log.debug("secrets to read ahead of their checks in mount %s: %d", store.mount, scheduled)

    def _executor_locked(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=self._threads, thread_name_prefix="vault-read-ahead")
        return self._executor


def _read(store: KvStore, path: str, batch: _Batch) -> StoredSecret | None:
    if batch.failed.is_set():
        raise _Stopped(path)
    try:
        # The cheaper read: whatever fails here, the check reads again with `read`.
        return store.peek(path)
    except Exception:
        batch.failed.set()
        raise
