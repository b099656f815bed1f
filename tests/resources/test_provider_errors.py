"""Expected errors of create, update and delete reach the engine as their message alone."""

from __future__ import annotations

import sys
import traceback
import types
from collections.abc import Iterator

import pytest

from sentry_dsn_sync.errors import VaultConflictError
from sentry_dsn_sync.resources import _provider_errors as provider_errors


@pytest.fixture
def host() -> Iterator[types.ModuleType]:
    """A stand-in for `pulumi.dynamic.__main__`: its wrapper reports errors through `traceback.format_exc`."""
    module = types.ModuleType("pulumi.dynamic.__main__")
    module.traceback = traceback  # type: ignore[attr-defined]

    def _abort_with_traceback(fn):  # type: ignore[no-untyped-def]
        def wrapper() -> str:
            try:
                fn()
            except Exception:
                return str(module.traceback.format_exc())  # type: ignore[attr-defined]
            return ""

        return wrapper

    module._abort_with_traceback = _abort_with_traceback  # type: ignore[attr-defined]
    sys.modules[module.__name__] = module
    yield module
    del sys.modules[module.__name__]


def test_an_expected_error_is_reported_as_its_message_alone(host: types.ModuleType) -> None:
    assert provider_errors.report_expected_errors_without_traceback()

    def conflict() -> None:
        raise VaultConflictError("`secret/data/web` kept changing under another writer; re-run when it settles")

    reported = host._abort_with_traceback(conflict)()  # type: ignore[attr-defined]

    assert reported == "`secret/data/web` kept changing under another writer; re-run when it settles"


def test_an_unexpected_error_keeps_its_traceback(host: types.ModuleType) -> None:
    provider_errors.report_expected_errors_without_traceback()

    def bug() -> None:
        raise KeyError("vault_path")

    reported = host._abort_with_traceback(bug)()  # type: ignore[attr-defined]

    assert reported.startswith("Traceback (most recent call last)") and "KeyError: 'vault_path'" in reported
    assert host.traceback.extract_stack  # every other name is the real module's


def test_outside_a_provider_host_nothing_is_installed() -> None:
    assert "pulumi.dynamic.__main__" not in sys.modules
    assert not hasattr(sys.modules["__main__"], "_abort_with_traceback")
    assert provider_errors.report_expected_errors_without_traceback() is False
