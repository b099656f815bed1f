"""The package's public surface: what `from sentry_dsn_sync import ...` offers, and nothing by accident."""

from __future__ import annotations

import importlib
import inspect

import pytest

import sentry_dsn_sync

PUBLIC = {
    "ConfigError",
    "KeySelectionError",
    "ProjectDsn",
    "ProjectDsnArgs",
    "SentryDsnSync",
    "SentryDsnSyncArgs",
    "SentryDsnSyncError",
    "SentryError",
    "Settings",
    "VaultError",
    "load_settings",
    "parse_settings",
    "parse_vault_settings",
}


def test_the_package_exports_exactly_its_public_names() -> None:
    assert set(sentry_dsn_sync.__all__) == PUBLIC


@pytest.mark.parametrize("package", ["sentry_dsn_sync", "sentry_dsn_sync.sentry", "sentry_dsn_sync.vault"])
def test_every_exported_name_exists_is_public_and_comes_from_the_package(package: str) -> None:
    module = importlib.import_module(package)
    for name in module.__all__:
        assert not name.startswith("_"), f"{package} exports the private name {name}"
        member = getattr(module, name)
        if inspect.isclass(member) or inspect.isfunction(member):
            assert member.__module__.startswith("sentry_dsn_sync"), f"{package}.{name} comes from {member.__module__}"
