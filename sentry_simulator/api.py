"""The Sentry REST endpoints the simulator serves, in Sentry's order of checks.

Order matters to clients that map errors: an unknown token is a 401 before
anything else; an organization or project that does not exist is a 404 even
for a token without the scope; only then is a missing scope a 403.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlencode

from .messages import Request, Response, detail_response, json_array_response, json_response
from .pagination import (
    DEFAULT_PER_PAGE,
    KEYS_DEFAULT_PER_PAGE,
    InvalidPagination,
    paginate,
    paginate_by_id,
    parse_per_page,
)
from .serializers import key_json, key_json_bytes, project_detail_json, project_summary_json_bytes
from .state import Key, Organization, Principal, Project, SimulatorState, Team
from .stats import InvalidStatsQuery, StatsQuery, parse_stats_query, stats_series
from .traffic import key_stats_series, project_totals

__all__ = ["OPERATIONS", "SentryApi"]

NOT_FOUND = "The requested resource does not exist"
NO_CREDENTIALS = "Authentication credentials were not provided."
INVALID_TOKEN = "Invalid token"
NO_PERMISSION = "You do not have permission to perform this action."


class _ApiError(Exception):
    def __init__(self, status: int, detail: str, *headers: tuple[str, str]) -> None:
        super().__init__(detail)
        self.response = detail_response(status, detail, *headers)


class _ProjectMoved(Exception):
    """Sentry's ProjectMoved: a 302 whose body and Location name the project's new slug."""

    def __init__(self, new_url: str, slug: str) -> None:
        super().__init__(new_url)
        body = {"slug": slug, "detail": {"extra": {"url": new_url, "slug": slug}}}
        self.response = json_response(302, body, ("Location", new_url))


@dataclass(frozen=True)
class _Call:
    request: Request
    principal: Principal

    @property
    def scopes(self) -> frozenset[str]:
        return self.principal.scopes

    def require(self, family: str) -> None:
        """Any of read/write/admin of the family will do, as in Sentry's ScopedPermission."""
        if not any(f"{family}:{level}" in self.scopes for level in ("read", "write", "admin")):
            raise _ApiError(403, NO_PERMISSION)

    def require_project(self, project: Project) -> None:
        """Sentry's ProjectPermission: the scope, and access to one of the project's teams."""
        self.require("project")
        if not self.principal.has_access(project):
            raise _ApiError(403, NO_PERMISSION)

    @property
    def access(self) -> list[str]:
        return sorted(self.scopes)


Handler = Callable[["SentryApi", _Call, Sequence[str]], Response]


@dataclass(frozen=True)
class _Route:
    operation_id: str
    template: str  # the OpenAPI path, for contract tests
    pattern: re.Pattern[str]
    handler: Handler
    # Served by Sentry but absent from its public API schema (so from the contract tests).
    private: bool = False


class SentryApi:
    """Routes `/api/0/...` paths (prefix already removed) to Sentry's operations."""

    def __init__(
        self,
        state: SimulatorState,
        *,
        page_size: int | None = None,
        link_prefix: str | None = None,
        key_stats: bool = True,
    ) -> None:
        """`page_size=None` answers each list with Sentry's own default page size; `link_prefix`
        stands for Sentry's `system.url-prefix`, which its Link URLs start with whatever host
        the request came to (None: the request's own origin); `key_stats=False` is an older
        self-hosted Sentry without the per-key stats endpoint (404)."""
        self._state = state
        self._key_stats = key_stats
        self._page_size = page_size
        self._link_prefix = link_prefix.rstrip("/") if link_prefix else None

    def handle(self, request: Request, route_path: str) -> Response:
        try:
            return self._dispatch(request, route_path)
        except (_ApiError, _ProjectMoved) as error:
            return error.response

    def _dispatch(self, request: Request, route_path: str) -> Response:
        route, args = _match(route_path)
        if route is None:
            if not route_path.endswith("/") and _match(route_path + "/")[0] is not None:
                # Django's APPEND_SLASH: real Sentry redirects, it does not serve.
                query = "?" + urlencode(request.query) if request.query else ""
                return Response(status=301, headers=(("Location", request.url + "/" + query),))
            raise _ApiError(404, NOT_FOUND)
        call = _Call(request=request, principal=self._authenticate(request))
        if request.method != "GET":
            raise _ApiError(405, f'Method "{request.method}" not allowed.', ("Allow", "GET, HEAD, OPTIONS"))
        return route.handler(self, call, args)

    def _authenticate(self, request: Request) -> Principal:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer":
            raise _ApiError(401, NO_CREDENTIALS, ("WWW-Authenticate", 'Bearer realm="api"'))
        principal = self._state.principal_for(token.strip())
        if principal is None:
            raise _ApiError(401, INVALID_TOKEN, ("WWW-Authenticate", 'Bearer realm="api"'))
        return principal

    # -- lookups that 404 -------------------------------------------------------

    def _organization(self, ref: str) -> Organization:
        organization = self._state.organization(ref)
        if organization is None:
            raise _ApiError(404, NOT_FOUND)
        return organization

    def _project(self, call: _Call, org_ref: str, project_ref: str) -> tuple[Organization, Project]:
        """The project and its permission check, in Sentry's ProjectEndpoint order."""
        organization = self._organization(org_ref)
        project = self._state.project(organization.slug, project_ref)
        if project is None:
            self._raise_if_renamed(call, org_ref, project_ref)
            raise _ApiError(404, NOT_FOUND)
        call.require_project(project)
        return organization, project

    def _raise_if_renamed(self, call: _Call, org_ref: str, old_slug: str) -> None:
        moved = self._state.renamed_project(org_ref, old_slug)
        if moved is None:
            return
        # Sentry checks permission on the project first, so a rename is never revealed to a stranger.
        call.require_project(moved)
        requested = call.request.path + ("?" + urlencode(call.request.query) if call.request.query else "")
        new_url = requested.replace(f"projects/{org_ref}/{old_slug}/", f"projects/{org_ref}/{moved.slug}/")
        raise _ProjectMoved(new_url, moved.slug)

    def _team(self, organization: Organization, ref: str, *, detail: str = NOT_FOUND) -> Team:
        team = self._state.team(organization.slug, ref)
        if team is None:
            raise _ApiError(404, detail)
        return team

    def _page(
        self,
        call: _Call,
        rows: Sequence[Any],
        render: Callable[[Any], bytes],
        *,
        default_per_page: int = DEFAULT_PER_PAGE,
        id_of: Callable[[Any], int] | None = None,
    ) -> Response:
        """A page by page number (Sentry's OffsetPaginator), or by database id when `id_of` gives each
        row's (rows newest first)."""
        request = call.request
        default = self._page_size if self._page_size is not None else default_per_page
        try:
            per_page = parse_per_page(request.param("per_page"), default=default)
            url = self._link_prefix + request.path if self._link_prefix else request.url
            cursor = request.param("cursor")
            if id_of is None:
                page = paginate(rows, cursor=cursor, per_page=per_page, url=url, query=request.query)
            else:
                page = paginate_by_id(rows, id_of=id_of, cursor=cursor, per_page=per_page, url=url, query=request.query)
        except InvalidPagination as exc:
            raise _ApiError(400, str(exc)) from exc
        return json_array_response(200, [render(row) for row in page.items], ("Link", page.link_header))

    # -- operations ---------------------------------------------------------------

    def _get_project(self, call: _Call, args: Sequence[str]) -> Response:
        organization, project = self._project(call, *args)
        body = project_detail_json(
            project,
            organization,
            access=call.access,
            base_url=call.request.origin + "/",
            is_member=call.principal.is_member(project),
        )
        return json_response(200, body)

    def _list_project_keys(self, call: _Call, args: Sequence[str]) -> Response:
        organization, project = self._project(call, *args)
        keys = self._state.project_keys(organization.slug, project.slug, status=call.request.param("status"))
        return self._keys_page(call, keys, organization)

    def _get_project_key(self, call: _Call, args: Sequence[str]) -> Response:
        organization, _, key = self._key(call, args)
        return json_response(200, key_json(key, organization, superuser=call.principal.superuser))

    def _key(self, call: _Call, args: Sequence[str]) -> tuple[Organization, Project, Key]:
        """The key of a `.../keys/{key_id}/...` path: 404 for any part that does not exist, then the scope."""
        organization, project = self._project(call, args[0], args[1])
        key = self._state.project_key(organization.slug, project.slug, args[2])
        if key is None:
            raise _ApiError(404, NOT_FOUND)
        return organization, project, key

    def _list_organization_project_keys(self, call: _Call, args: Sequence[str]) -> Response:
        organization = self._organization(args[0])
        call.require("org")
        project_ids = self._requested_project_ids(call, organization)
        team_ref = call.request.param("team")
        team = self._team(organization, team_ref, detail="Team not found") if team_ref else None
        keys = self._state.organization_keys(
            organization.slug, team=team, status=call.request.param("status"), project_ids=project_ids
        )
        return self._keys_page(call, keys, organization)

    def _requested_project_ids(self, call: _Call, organization: Organization) -> frozenset[int]:
        """Sentry's `get_projects`: no `project` means the projects of the token's own teams,
        `project=-1` every project it has access to, ids exactly those (403 if one is not accessible)."""
        raw = [value for name, value in call.request.query if name == "project"]
        try:
            wanted = {int(value) for value in raw}
        except ValueError as exc:
            raise _ApiError(400, "Invalid project parameter. Values must be numbers.") from exc
        principal = call.principal
        sees = principal.is_member if not wanted else principal.has_access
        if not wanted or wanted == {-1}:
            return self._state.until_changed(
                ("project ids seen", organization.slug, principal, not wanted),
                lambda: frozenset(p.id for p in self._state.projects(organization.slug) if sees(p)),
            )
        chosen = frozenset(p.id for p in self._state.projects(organization.slug) if p.id in wanted and sees(p))
        if chosen != wanted:
            raise _ApiError(403, NO_PERMISSION)
        return chosen

    def _keys_page(self, call: _Call, keys: Sequence[Any], organization: Organization) -> Response:
        superuser = call.principal.superuser
        return self._page(
            call,
            keys,
            lambda key: key_json_bytes(key, organization, superuser=superuser),
            default_per_page=KEYS_DEFAULT_PER_PAGE,
            id_of=_database_id,
        )

    def _list_organization_projects(self, call: _Call, args: Sequence[str]) -> Response:
        organization = self._organization(args[0])
        call.require("org")
        projects = self._state.projects(organization.slug)
        query = call.request.param("query")
        if query:
            projects = tuple(p for p in projects if _matches_query(p, query))
        return self._projects_page(call, projects)

    def _list_team_projects(self, call: _Call, args: Sequence[str]) -> Response:
        organization = self._organization(args[0])
        team = self._team(organization, args[1])
        call.require("project")
        return self._projects_page(call, self._state.projects(organization.slug, team=team))

    def _projects_page(self, call: _Call, projects: Sequence[Project]) -> Response:
        access, principal = tuple(call.access), call.principal
        return self._page(
            call,
            projects,
            lambda p: project_summary_json_bytes(
                p, access, is_member=principal.is_member(p), has_access=principal.has_access(p)
            ),
        )

    def _list_project_stats(self, call: _Call, args: Sequence[str]) -> Response:
        organization, project = self._project(call, *args)
        param = call.request.param
        try:
            query = parse_stats_query(
                stat=param("stat"), since=param("since"), until=param("until"),
                resolution=param("resolution"), now=time.time(),
            )
        except InvalidStatsQuery as exc:
            raise _ApiError(400, str(exc)) from exc
        if self._state.has_scripted_traffic(organization.slug, project.slug):
            traffic = self._state.key_traffic(organization.slug, project.slug)
            return json_response(200, project_totals(query, traffic, now=time.time()))
        silent_since = (
            self._state.last_key_change(organization.slug, project.slug)
            if project.silent_after_key_change
            else None
        )
        series = stats_series(
            query, events_per_hour=project.events_per_hour, created=project.date_created, silent_since=silent_since
        )
        return json_response(200, series)

    def _get_project_key_stats(self, call: _Call, args: Sequence[str]) -> Response:
        """ProjectKeyStatsEndpoint: the key by its public id; `resolution` defaults to a day, as there."""
        if not self._key_stats:
            raise _ApiError(404, NOT_FOUND)
        organization, project, key = self._key(call, args)
        query = self._key_stats_query(call.request)
        traffic = next(t for t in self._state.key_traffic(organization.slug, project.slug) if t.key_id == key.id)
        return json_response(200, key_stats_series(query, traffic.segments, now=time.time()))

    @staticmethod
    def _key_stats_query(request: Request) -> StatsQuery:
        param = request.param
        try:
            return parse_stats_query(
                stat=None, since=param("since"), until=param("until"),
                resolution=param("resolution") or "1d", now=time.time(),
            )
        except InvalidStatsQuery as exc:
            # Sentry folds every bad parameter of this endpoint into one message.
            raise _ApiError(400, "Invalid request data") from exc


def _matches_query(project: Project, query: str) -> bool:
    """Sentry's `query` for projects: `slug:`, `id:` tokens, or free text in slug or name."""
    for token in query.split():
        key, sep, value = token.partition(":")
        if sep and key == "slug":
            ok = project.slug == value
        elif sep and key == "id":
            ok = str(project.id) == value
        else:
            ok = token.lower() in project.slug.lower() or token.lower() in project.name.lower()
        if not ok:
            return False
    return True


_SEGMENT = r"([^/]+)"


def _route(operation_id: str, template: str, handler: Handler, *, private: bool = False) -> _Route:
    pattern = re.escape(template)
    pattern = re.sub(r"\\\{[a-z_]+\\\}", _SEGMENT, pattern)
    return _Route(operation_id, template, re.compile(f"^{pattern}$"), handler, private)


_ROUTES: tuple[_Route, ...] = (
    _route("getProject", "/api/0/projects/{organization_id_or_slug}/{project_id_or_slug}/",
           SentryApi._get_project),
    _route("listProjectKeys", "/api/0/projects/{organization_id_or_slug}/{project_id_or_slug}/keys/",
           SentryApi._list_project_keys),
    _route("getProjectKey", "/api/0/projects/{organization_id_or_slug}/{project_id_or_slug}/keys/{key_id}/",
           SentryApi._get_project_key),
    _route("listProjectStats", "/api/0/projects/{organization_id_or_slug}/{project_id_or_slug}/stats/",
           SentryApi._list_project_stats),
    # What Sentry's Client Keys page reads; private, so in no public schema.
    _route("getProjectKeyStats",
           "/api/0/projects/{organization_id_or_slug}/{project_id_or_slug}/keys/{key_id}/stats/",
           SentryApi._get_project_key_stats, private=True),
    _route("listOrganizationProjectKeys", "/api/0/organizations/{organization_id_or_slug}/project-keys/",
           SentryApi._list_organization_project_keys),
    _route("listOrganizationProjects", "/api/0/organizations/{organization_id_or_slug}/projects/",
           SentryApi._list_organization_projects),
    _route("listTeamProjects", "/api/0/teams/{organization_id_or_slug}/{team_id_or_slug}/projects/",
           SentryApi._list_team_projects),
)

# (operationId, OpenAPI path template) of every operation served, all GET.
OPERATIONS: tuple[tuple[str, str], ...] = tuple((r.operation_id, r.template) for r in _ROUTES if not r.private)


def _match(path: str) -> tuple[_Route | None, tuple[str, ...]]:
    for route in _ROUTES:
        found = route.pattern.match(path)
        if found:
            return route, tuple(unquote(g) for g in found.groups())
    return None, ()


def _database_id(key: Key) -> int:
    # The key lists are Sentry's `order_by="-id"` on the key's database id, which `seq` stands for.
    return key.seq
