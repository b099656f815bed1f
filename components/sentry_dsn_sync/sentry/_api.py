"""The Sentry endpoints this tool reads, one method per endpoint, named after the API's own paths."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Literal

from sentry_dsn_sync.config import DSN_FORMS
from sentry_dsn_sync.errors import SentryProjectRenamedError, SentryResponseError
from sentry_dsn_sync.sentry._both_ends import list_from_both_ends
from sentry_dsn_sync.sentry._client import SentryClient, api_path
from sentry_dsn_sync.sentry._models import KeyStatsBucket, MalformedItem, Project, ProjectKey, parse_each
from sentry_dsn_sync.sentry._pages_ahead import pages_ahead

__all__ = ["KeyStatus", "SentryApi", "Stat"]

KeyStatus = Literal["active", "inactive"]
Stat = Literal["received", "rejected", "blacklisted", "generated"]
Resolution = Literal["10s", "1h", "1d"]

# The largest page Sentry serves. Always asked for: the key lists default to
# 10 per page, so without it a 500-project organization costs 50+ requests
# instead of 5.
_PER_PAGE = 100
# Sentry's `project=-1`: every project the token may read. Without it the org-wide
# key list covers only projects on the token user's own teams.
_ALL_ACCESSIBLE_PROJECTS = -1

# Path templates, which are also the rate-limit buckets: Sentry counts requests per endpoint.
_PROJECT = "projects/{}/{}/"
_PROJECT_KEYS = "projects/{}/{}/keys/"
_PROJECT_STATS = "projects/{}/{}/stats/"
_ORGANIZATION_KEYS = "organizations/{}/project-keys/"
_ORGANIZATION_PROJECTS = "organizations/{}/projects/"
_TEAM_PROJECTS = "teams/{}/{}/projects/"


class SentryApi:
    """Typed reads of Sentry's REST API over one :class:`SentryClient`.

    Client keys keep only the DSN forms in `dsn_forms` (default: all of them).
    """

    def __init__(self, client: SentryClient, *, dsn_forms: tuple[str, ...] = DSN_FORMS) -> None:
        self.client = client
        self.dsn_forms = dsn_forms

    def get_project(self, organization: str, project: str) -> Project:
        """GET /api/0/projects/{organization}/{project}/ (scope project:read)."""
        path = api_path(_PROJECT, organization, project)
        with _renamed_says_so(project):
            data = self.client.get_json(
                path, what=_project_what(organization, project), scope="project:read", bucket=_PROJECT
            )
        return Project.from_json(data, endpoint=self.client.endpoint(path))

    def list_project_keys(
        self, organization: str, project: str, *, status: KeyStatus | None = "active"
    ) -> list[ProjectKey]:
        """GET /api/0/projects/{organization}/{project}/keys/ (scope project:read), every page.

        Older self-hosted releases ignore `status`; callers still filter on
        `is_active` rather than trust the server did.
        """
        path = api_path(_PROJECT_KEYS, organization, project)
        items = self.client.paginate(
            path,
            params={"status": status, "per_page": _PER_PAGE},
            what=_project_what(organization, project),
            scope="project:read",
            bucket=_PROJECT_KEYS,
        )
        with _renamed_says_so(project):
            return self._keys(items, path)

    def list_organization_project_keys(
        self, organization: str, *, status: KeyStatus | None = "active", team: str | None = None
    ) -> list[ProjectKey | MalformedItem]:
        """GET /api/0/organizations/{organization}/project-keys/ (scope org:read), every page.

        One paginated call for the keys of every project the token may read,
        instead of one call per project, read from both ends of the list at
        once (see :mod:`sentry_dsn_sync.sentry._both_ends`). Each key is parsed
        on its own: a malformed one is returned as a MalformedItem.
        """
        path = api_path(_ORGANIZATION_KEYS, organization)
        endpoint = self.client.endpoint(path)
        return list_from_both_ends(
            self.client,
            path,
            parse=lambda items: list(parse_each(items, self._key, endpoint=endpoint)),
            params={"status": status, "team": team, "project": _ALL_ACCESSIBLE_PROJECTS, "per_page": _PER_PAGE},
            what=f"organization '{organization}'",
            scope="org:read",
            bucket=_ORGANIZATION_KEYS,
        )

    def list_organization_projects(self, organization: str) -> list[Project | MalformedItem]:
        """GET /api/0/organizations/{organization}/projects/ (scope org:read), every page."""
        return list(self.iter_organization_projects(organization))

    def iter_organization_projects(self, organization: str) -> Iterator[Project | MalformedItem]:
        """The same, page by page as the caller iterates: the first item means the first page answered.

        Each project is parsed on its own: a malformed one is yielded as a MalformedItem. After the
        first page, two pages are asked for at a time (see :mod:`sentry_dsn_sync.sentry._pages_ahead`).
        """
        path = api_path(_ORGANIZATION_PROJECTS, organization)
        items = pages_ahead(
            self.client,
            path,
            params={"per_page": _PER_PAGE},
            what=f"organization '{organization}'",
            scope="org:read",
            bucket=_ORGANIZATION_PROJECTS,
        )
        return parse_each(items, Project.from_json, endpoint=self.client.endpoint(path))

    def list_team_projects(self, organization: str, team: str) -> list[Project]:
        """GET /api/0/teams/{organization}/{team}/projects/ (scope project:read), every page.

        Paged by offset like the organization's list, so after the first page two
        are asked for at a time (see :mod:`sentry_dsn_sync.sentry._pages_ahead`).
        """
        path = api_path(_TEAM_PROJECTS, organization, team)
        # Sentry's default page here is already its largest (100).
        items = pages_ahead(
            self.client, path, what=f"team '{team}' in organization '{organization}'", scope="project:read",
            bucket=_TEAM_PROJECTS,
        )
        return list(self._projects(items, path))

    def get_project_stats(
        self,
        organization: str,
        project: str,
        *,
        stat: Stat,
        since: float | datetime,
        until: float | datetime,
        resolution: Resolution = "1h",
    ) -> list[tuple[int, int]]:
        """GET /api/0/projects/{organization}/{project}/stats/ (scope project:read).

        Returns `(bucket start epoch seconds, count)` pairs.
        """
        path = api_path(_PROJECT_STATS, organization, project)
        params = {"stat": stat, "since": _epoch(since), "until": _epoch(until), "resolution": resolution}
        with _renamed_says_so(project):
            data = self.client.get_json(
                path,
                params=params,
                what=_project_what(organization, project),
                scope="project:read",
                bucket=_PROJECT_STATS,
            )
        return _points(data, self.client.endpoint(path))

    def get_project_key_stats(
        self,
        organization: str,
        project: str,
        key_id: str,
        *,
        since: float | datetime,
        until: float | datetime,
        resolution: Resolution = "1h",
    ) -> list[KeyStatsBucket]:
        """GET /api/0/projects/{organization}/{project}/keys/{key_id}/stats/ (scope project:read).

        The endpoint Sentry's Client Keys page reads; it is not in the public
        API docs. `key_id` is the key's `id` (its public key). Counts are error
        events. Older self-hosted releases answer 404 (or 403); callers fall
        back to project stats then. Sentry allows 20 requests a second here.
        """
        path = api_path("projects/{}/{}/keys/{}/stats/", organization, project, key_id)
        params = {"since": _epoch(since), "until": _epoch(until), "resolution": resolution}
        data = self.client.get_json(
            path, params=params, what=f"client key {key_id} of {_project_what(organization, project)}",
            scope="project:read",
        )
        endpoint = self.client.endpoint(path)
        if not isinstance(data, list):
            method, _, url = endpoint.partition(" ")
            raise SentryResponseError(
                f"Sentry answered {endpoint} with something other than a list of stats buckets",
                method=method,
                url=url,
            )
        return [KeyStatsBucket.from_json(item, endpoint=endpoint) for item in data]

    def _keys(self, items: Any, path: str) -> list[ProjectKey]:
        endpoint = self.client.endpoint(path)
        return [self._key(item, endpoint=endpoint) for item in items]

    def _key(self, item: Any, *, endpoint: str) -> ProjectKey:
        return ProjectKey.from_json(item, endpoint=endpoint, forms=self.dsn_forms)

    def _projects(self, items: Any, path: str) -> Iterator[Project]:
        """Each item parsed as it is reached: a paginated list is read only as far as it is iterated."""
        endpoint = self.client.endpoint(path)
        return (Project.from_json(item, endpoint=endpoint) for item in items)


@contextmanager
def _renamed_says_so(project: str) -> Iterator[None]:
    """Sentry answers an old slug with 302 and the new slug: say what to change, not "check sentryUrl"."""
    try:
        yield
    except SentryProjectRenamedError as exc:
        raise SentryProjectRenamedError(
            f"project '{project}' was renamed to '{exc.new_slug}' in Sentry; update `projects` in the stack config",
            new_slug=exc.new_slug,
            method=exc.method,
            url=exc.url,
            status=exc.status,
        ) from exc


def _project_what(organization: str, project: str) -> str:
    return f"project '{project}' in organization '{organization}'"


def _epoch(moment: float | datetime) -> int | float:
    return moment.timestamp() if isinstance(moment, datetime) else moment


def _points(data: Any, endpoint: str) -> list[tuple[int, int]]:
    def is_int(value: Any) -> bool:
        return isinstance(value, int) and not isinstance(value, bool)

    if not isinstance(data, list) or not all(
        isinstance(p, list) and len(p) == 2 and is_int(p[0]) and is_int(p[1]) for p in data
    ):
        method, _, url = endpoint.partition(" ")
        raise SentryResponseError(
            f"Sentry answered {endpoint} with something other than a list of [timestamp, count] pairs",
            method=method,
            url=url,
        )
    return [(p[0], p[1]) for p in data]
