"""Read Sentry projects and client keys: the HTTP client, the API wrappers, models, key choice, and the org catalog.

A plain library: it keeps no state between calls; the provider process's
context owns the catalogs it shares.
"""

from __future__ import annotations

from sentry_dsn_sync.sentry.api import KeyStatus, SentryApi, Stat
from sentry_dsn_sync.sentry.catalog import OrganizationCatalog, SharedDocument, open_catalog
from sentry_dsn_sync.sentry.client import LinkEntry, RetryPolicy, SentryClient, api_path, api_root, parse_link_header
from sentry_dsn_sync.sentry.models import KeyStatsBucket, Project, ProjectKey
from sentry_dsn_sync.sentry.selection import KeyChoice, choose_key

__all__ = [
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
    "choose_key",
    "open_catalog",
    "parse_link_header",
]
