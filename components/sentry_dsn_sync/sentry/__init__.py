"""Read Sentry projects and client keys: the HTTP client, the API wrappers, models, key choice, and the org catalog.

A plain library: it keeps no state between calls; the provider process's
context owns the catalogs it shares.
"""

from __future__ import annotations

from sentry_dsn_sync.sentry._api import KeyStatus, SentryApi, Stat
from sentry_dsn_sync.sentry._client import LinkEntry, RetryPolicy, SentryClient, api_path, api_root, parse_link_header
from sentry_dsn_sync.sentry._dsn import check_public_dsn, dsn_problem
from sentry_dsn_sync.sentry._models import KeyStatsBucket, Project, ProjectKey
from sentry_dsn_sync.sentry._selection import KeyChoice, choose_key
from sentry_dsn_sync.sentry.catalog import OrganizationCatalog, SharedDocument, open_catalog

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
    "check_public_dsn",
    "choose_key",
    "dsn_problem",
    "open_catalog",
    "parse_link_header",
]
