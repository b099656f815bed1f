"""Ask Vault in one request, for a block of secrets, whether the token may publish them.

The check of every resource that is about to be written asks Vault whether
the token may finish the publish (see `KvStore.require_write_access`), so a
policy that lacks a capability fails the preview instead of half-way through
`up`. Asked one secret at a time, a first run over 500 projects made 500 such
requests on the checks' own threads. The first check of a block of the
projects the stack publishes (those it lists, then its `team`'s, or those a
program planned for its own settings) asks for the whole block instead, and
the other checks of that block use the answer. A path outside the plan is
asked alone, and so is a path whose block could not be asked, so a failure
surfaces in that check with its own message. An answer is at most seconds
older than its check; the write itself is still refused by Vault if the policy
changed in between.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sentry_dsn_sync.vault import KvStore

__all__ = ["WriteAccess"]

# Secrets per request: two API paths each, and Vault's answer stays small enough to wait for.
BLOCK = 250

Granted = Mapping[str, frozenset[str]]


class _Plan:
    """The planned paths of one store, and the answers of the blocks asked so far."""

    def __init__(self, paths: Sequence[str]) -> None:
        self.paths = list(paths)
        self.position = {path: at for at, path in enumerate(self.paths)}
        self.answers: dict[int, Granted] = {}
        self.asking = threading.Lock()


class WriteAccess:
    """Capabilities asked per block of planned paths, for one provider process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._plans: dict[Hashable, _Plan] = {}

    def require(
        self, key: Hashable, store: KvStore, path: str, *, exists: bool, planned: Callable[[], Sequence[str]]
    ) -> None:
        """Raise VaultPermissionError unless the token may publish at `path`; `planned` runs once per key."""
        with self._lock:
            plan = self._plans.get(key)
            if plan is None:
                plan = self._plans[key] = _Plan(planned())
        at = plan.position.get(path)
        granted = None if at is None else _block_answer(plan, at // BLOCK, store)
        store.require_write_access(path, exists=exists, granted=granted)

    def reset(self) -> None:
        """Forget every answer (a new config may point at another Vault or token)."""
        with self._lock:
            self._plans.clear()


def _block_answer(plan: _Plan, block: int, store: KvStore) -> Granted | None:
    """The block's answer, asked by the first check that needs it; None when asking failed."""
    with plan.asking:
        answer = plan.answers.get(block)
        if answer is None:
            try:
                answer = plan.answers[block] = store.capabilities(plan.paths[block * BLOCK : (block + 1) * BLOCK])
            except Exception:  # noqa: BLE001 - the check asks for its own path and reports why that fails
                return None
        return answer
