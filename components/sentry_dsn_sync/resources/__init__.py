"""The ProjectDsn dynamic resource and its provider, and what one provider process shares."""

from __future__ import annotations

from sentry_dsn_sync.resources.project_dsn import ProjectDsn, ProjectDsnArgs, ProjectDsnProvider

__all__ = ["ProjectDsn", "ProjectDsnArgs", "ProjectDsnProvider"]
