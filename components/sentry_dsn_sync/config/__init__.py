"""Stack configuration and environment -> typed, validated settings.

Three parts: the settings types every layer imports (`_settings`), parsing and
its messages (`_parse`), and reading Pulumi's config (`_pulumi`).
"""

from sentry_dsn_sync.config._parse import parse_settings, parse_vault_settings
from sentry_dsn_sync.config._pulumi import decode_namespace, load_settings, provider_config
from sentry_dsn_sync.config._settings import (
    AUTH_KEYS,
    CONFIG_NAMESPACE,
    DEFAULT_KV_VERSION,
    DEFAULT_MOUNT,
    DEFAULT_ON_DELETE,
    DEFAULT_PATH_TEMPLATE,
    DEFAULT_SECRET_ID_ENV,
    DEFAULT_SENTRY_URL,
    ENV_FALLBACKS,
    ON_DELETE_CHOICES,
    PATH_PLACEHOLDERS,
    PROJECT_KEYS,
    TOP_LEVEL_KEYS,
    VAULT_KEYS,
    AppRoleAuth,
    JwtAuth,
    KubernetesAuth,
    OnDelete,
    ProjectSpec,
    Secret,
    Settings,
    TokenAuth,
    VaultAuth,
    VaultSettings,
    render_vault_path,
)

__all__ = [
    "AUTH_KEYS",
    "CONFIG_NAMESPACE",
    "DEFAULT_KV_VERSION",
    "DEFAULT_MOUNT",
    "DEFAULT_ON_DELETE",
    "DEFAULT_PATH_TEMPLATE",
    "DEFAULT_SECRET_ID_ENV",
    "DEFAULT_SENTRY_URL",
    "ENV_FALLBACKS",
    "ON_DELETE_CHOICES",
    "PATH_PLACEHOLDERS",
    "PROJECT_KEYS",
    "TOP_LEVEL_KEYS",
    "VAULT_KEYS",
    "AppRoleAuth",
    "JwtAuth",
    "KubernetesAuth",
    "OnDelete",
    "ProjectSpec",
    "Secret",
    "Settings",
    "TokenAuth",
    "VaultAuth",
    "VaultSettings",
    "decode_namespace",
    "load_settings",
    "parse_settings",
    "parse_vault_settings",
    "provider_config",
    "render_vault_path",
]
