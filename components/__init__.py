"""sentry-dsn-sync: publish each Sentry project's active public DSN into Vault and stack outputs."""

from components.config import Settings, load_settings, parse_settings, parse_vault_settings
from components.errors import (
    ConfigError,
    KeySelectionError,
    SentryDsnSyncError,
    SentryError,
    VaultError,
)
from components.resources.project_dsn import ProjectDsn, ProjectDsnArgs
from components.sync import SentryDsnSync, SentryDsnSyncArgs

__all__ = [
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
]
