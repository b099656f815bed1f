"""sentry-dsn-sync: publish each Sentry project's active public DSN into Vault and stack outputs."""

from sentry_dsn_sync.config import Settings, load_settings, parse_settings, parse_vault_settings
from sentry_dsn_sync.errors import (
    ConfigError,
    KeySelectionError,
    SentryDsnSyncError,
    SentryError,
    VaultError,
)
from sentry_dsn_sync.resources import ProjectDsn, ProjectDsnArgs, ProjectDsnProvider
from sentry_dsn_sync.sync import SentryDsnSync, SentryDsnSyncArgs

__all__ = [
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
]
