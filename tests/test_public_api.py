"""The package's public surface: what `from sentry_dsn_sync[.sub] import ...` offers, and nothing by accident.

As httpx's `test_exported_members`: each package's `__all__` is fixed here, every
name in it exists and comes from the package, and implementation modules are
private (`_`-prefixed) unless another layer imports them by name.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import sentry_dsn_sync

PUBLIC = {
    "sentry_dsn_sync": {
        "ConfigError",
        "KeySelectionError",
        "ProjectDsn",
        "ProjectDsnArgs",
        "ProjectDsnProvider",
        "SentryDsnSync",
        "SentryDsnSyncArgs",
        "SentryDsnSyncError",
        "SentryError",
        "Settings",
        "VaultError",
        "load_settings",
        "parse_settings",
        "parse_vault_settings",
    },
    "sentry_dsn_sync.config": {
        "AUTH_KEYS",
        "CONFIG_NAMESPACE",
        "DEFAULT_KV_VERSION",
        "DEFAULT_MOUNT",
        "DEFAULT_ON_DELETE",
        "DEFAULT_PASSWORD_ENV",
        "DEFAULT_PATH_TEMPLATE",
        "DEFAULT_SECRET_ID_ENV",
        "DEFAULT_SENTRY_URL",
        "DSN_FORMS",
        "ENV_FALLBACKS",
        "ON_DELETE_CHOICES",
        "PATH_PLACEHOLDERS",
        "PROJECT_KEYS",
        "TOP_LEVEL_KEYS",
        "VAULT_KEYS",
        "AppRoleAuth",
        "CertAuth",
        "JwtAuth",
        "KubernetesAuth",
        "OnDelete",
        "ProjectSpec",
        "Secret",
        "SentryAccess",
        "Settings",
        "TokenAuth",
        "UserpassAuth",
        "VaultAuth",
        "VaultSettings",
        "decode_namespace",
        "load_settings",
        "parse_sentry_flags",
        "parse_settings",
        "parse_vault_settings",
        "provider_config",
        "render_vault_path",
    },
    "sentry_dsn_sync.resources": {"ProjectDsn", "ProjectDsnArgs", "ProjectDsnProvider"},
    "sentry_dsn_sync.sentry": {
        "KeyChoice",
        "KeyStatsBucket",
        "KeyStatus",
        "LinkEntry",
        "OrganizationCatalog",
        "Project",
        "ProjectKey",
        "RetryPolicy",
        "SentryApi",
        "SentryClient",
        "SharedDocument",
        "Stat",
        "api_path",
        "api_root",
        "check_public_dsn",
        "choose_key",
        "dsn_problem",
        "open_catalog",
        "parse_link_header",
    },
    "sentry_dsn_sync.vault": {
        "DEFAULT_CAS_ATTEMPTS",
        "DEFAULT_TIMEOUT",
        "KvStore",
        "PublishResult",
        "StoredSecret",
        "client_identity",
        "connect",
    },
}

# Modules without a `_` that other layers, the report CLI or the 0.1 state path import by name.
PUBLIC_MODULES = {
    "sentry_dsn_sync.errors",
    "sentry_dsn_sync.paths",
    "sentry_dsn_sync.report",
    "sentry_dsn_sync.sync",
    "sentry_dsn_sync.resources.project_dsn",
    # The provider process's context and the state it owns, imported by name across layers.
    "sentry_dsn_sync.resources.context",
    "sentry_dsn_sync.resources.invocation_cache",
    "sentry_dsn_sync.resources.read_ahead",
    "sentry_dsn_sync.sentry.catalog",
    "sentry_dsn_sync.vault.client",
    "sentry_dsn_sync.vault.kv",
}


def _packages() -> list[str]:
    found = ["sentry_dsn_sync"]
    for info in pkgutil.walk_packages(sentry_dsn_sync.__path__, "sentry_dsn_sync."):
        if info.ispkg:
            found.append(info.name)
    return sorted(found)


def test_every_package_has_its_surface_fixed_here() -> None:
    assert _packages() == sorted(PUBLIC)


@pytest.mark.parametrize("package", sorted(PUBLIC))
def test_each_package_exports_exactly_its_public_names(package: str) -> None:
    module = importlib.import_module(package)
    assert set(module.__all__) == PUBLIC[package]


@pytest.mark.parametrize("package", sorted(PUBLIC))
def test_every_exported_name_exists_is_public_and_comes_from_the_package(package: str) -> None:
    module = importlib.import_module(package)
    for name in module.__all__:
        assert not name.startswith("_"), f"{package} exports the private name {name}"
        member = getattr(module, name)
        if inspect.isclass(member) or inspect.isfunction(member):
            assert member.__module__.startswith("sentry_dsn_sync"), f"{package}.{name} comes from {member.__module__}"


def test_implementation_modules_are_private_unless_imported_by_name_elsewhere() -> None:
    modules = {
        info.name
        for info in pkgutil.walk_packages(sentry_dsn_sync.__path__, "sentry_dsn_sync.")
        if not info.ispkg and not info.name.rsplit(".", 1)[1].startswith("_")
    }
    assert modules == PUBLIC_MODULES
