"""WriteAccess: one capabilities request per block of planned paths, and each check still decided alone."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pytest

from sentry_dsn_sync.errors import VaultError, VaultPermissionError
from sentry_dsn_sync.resources._write_access import BLOCK, WriteAccess

PLANNED = [f"sentry/acme/p{n:04d}" for n in range(BLOCK + 10)]
KEY = (None, "secret", 2)


class FakeStore:
    """Grants every planned path except those listed in `denied`; records what was asked."""

    def __init__(self, denied: Iterable[str] = ()) -> None:
        self.denied = set(denied)
        self.asked: list[list[str]] = []
        self.checked: list[tuple[str, bool, Mapping[str, frozenset[str]] | None]] = []
        self.fail_asking = False

    def capabilities(self, paths: Iterable[str]) -> dict[str, frozenset[str]]:
        listed = list(paths)
        self.asked.append(listed)
        if self.fail_asking:
            raise VaultError("Vault is sealed")
        return {path: frozenset() if path in self.denied else frozenset({"create"}) for path in listed}

    def require_write_access(
        self, path: str, *, exists: bool, granted: Mapping[str, frozenset[str]] | None = None
    ) -> None:
        self.checked.append((path, exists, granted))
        if granted is not None and not granted[path]:
            raise VaultPermissionError(f"lacks create on {path}", path=path)


def require(access: WriteAccess, store: Any, path: str, planned: list[str] = PLANNED) -> None:
    access.require(KEY, store, path, exists=False, planned=lambda: planned)


def test_the_checks_of_one_block_share_one_request() -> None:
    access, store = WriteAccess(), FakeStore()

    for path in PLANNED[:BLOCK]:
        require(access, store, path)

    assert store.asked == [PLANNED[:BLOCK]]
    assert all(granted is not None and path in granted for path, _, granted in store.checked)


def test_a_path_of_the_next_block_asks_for_that_block_only() -> None:
    access, store = WriteAccess(), FakeStore()

    require(access, store, PLANNED[BLOCK + 3])

    assert store.asked == [PLANNED[BLOCK:]]


def test_a_path_outside_the_plan_is_asked_alone_by_the_store() -> None:
    access, store = WriteAccess(), FakeStore()

    require(access, store, "sentry/acme/from-a-team")

    assert store.asked == []
    assert store.checked == [("sentry/acme/from-a-team", False, None)]


def test_a_denied_path_fails_its_own_check_only() -> None:
    access, store = WriteAccess(), FakeStore(denied=[PLANNED[1]])

    require(access, store, PLANNED[0])
    with pytest.raises(VaultPermissionError, match=PLANNED[1]):
        require(access, store, PLANNED[1])
    require(access, store, PLANNED[2])

    assert len(store.asked) == 1


def test_a_block_that_could_not_be_asked_leaves_each_check_to_ask_for_itself() -> None:
    access, store = WriteAccess(), FakeStore()
    store.fail_asking = True

    require(access, store, PLANNED[0])

    assert store.checked == [(PLANNED[0], False, None)]


def test_reset_forgets_the_answers() -> None:
    access, store = WriteAccess(), FakeStore()
    require(access, store, PLANNED[0])

    access.reset()
    require(access, store, PLANNED[1])

    assert len(store.asked) == 2
