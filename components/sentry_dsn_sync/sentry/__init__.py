"""Read Sentry projects and client keys: the HTTP client, the API wrappers, models, key choice, and the org cache."""

from __future__ import annotations

from sentry_dsn_sync.sentry.api import KeyStatus, SentryApi, Stat
from sentry_dsn_sync.sentry.catalog import (
    CatalogKey,
    OrganizationCatalog,
    catalog_for,
    reset_shared_catalogs,
    shared_catalog,
)
from sentry_dsn_sync.sentry.client import LinkEntry, RetryPolicy, SentryClient, api_path, api_root, parse_link_header
from sentry_dsn_sync.sentry.models import KeyStatsBucket, Project, ProjectKey
from sentry_dsn_sync.sentry.selection import KeyChoice, choose_key

__all__ = [
    "CatalogKey",
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
    "Stat",
    "api_path",
    "api_root",
    "catalog_for",
    "choose_key",
    "parse_link_header",
    "reset_shared_catalogs",
    "shared_catalog",
]
