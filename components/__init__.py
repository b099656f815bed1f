"""sentry-dsn-sync: publish each Sentry project's active public DSN into Vault and stack outputs."""

from components.config import Settings, load_settings, parse_settings
from components.errors import (
    ConfigError,
    KeySelectionError,
    SentryDsnSyncError,
    SentryError,
    VaultError,
)
from components.sync import SentryDsnSync, SentryDsnSyncArgs

__all__ = [
    "ConfigError",
    "KeySelectionError",
    "SentryDsnSync",
    "SentryDsnSyncArgs",
    "SentryDsnSyncError",
    "SentryError",
    "Settings",
    "VaultError",
    "load_settings",
    "parse_settings",
]
