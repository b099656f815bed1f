"""A view of one organization's projects and active keys, from one org-wide fetch.

The Pulumi engine runs every dynamic resource of a run in one provider
process, on many threads. Fetching the organization's projects and keys once
(a few paginated requests) and answering every project from that is what
keeps a run at hundreds of projects fast and under Sentry's rate limits; the
provider's context keeps one catalog per organization for that.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

import httpx

from sentry_dsn_sync.config import Settings
from sentry_dsn_sync.errors import (
    KeySelectionError,
    SentryNotFoundError,
    SentryPermissionError,
    SentryResponseError,
)
from sentry_dsn_sync.sentry._api import SentryApi
from sentry_dsn_sync.sentry._client import RetryPolicy, SentryClient
from sentry_dsn_sync.sentry._models import MalformedItem, Project, ProjectKey

__all__ = ["OrganizationCatalog", "SharedDocument", "open_catalog"]

T = TypeVar("T")


class SharedDocument(Protocol):
    """Where another process may already have stored this organization's read (best effort both ways)."""

    def load(self) -> Any | None: ...

    def save(self, document: Any) -> None: ...


class _Once(Generic[T]):
    """Computes a value once; concurrent first callers wait for it instead of computing it again.

    A failure is remembered too: when Sentry is down or the token is wrong,
    the next hundred callers get the same error at once, not a hundred
    retry budgets one after another.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._done = False
        self._value: T | None = None
        self._error: BaseException | None = None

    def get(self, compute: Callable[[], T]) -> T:
        with self._lock:
            if not self._done:
                try:
                    self._value = compute()
                except Exception as exc:
                    self._error = exc
                self._done = True
        if self._error is not None:
            raise self._error
        return self._value  # type: ignore[return-value]


class _OnceMap(Generic[T]):
    """One :class:`_Once` per key, so different projects are fetched in parallel."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cells: dict[str, _Once[T]] = {}

    def get(self, key: str, compute: Callable[[], T]) -> T:
        with self._lock:
            cell = self._cells.setdefault(key, _Once())
        return cell.get(compute)


@dataclass(frozen=True)
class _Snapshot:
    # None: the endpoint is not available to this token or server; ask per project instead.
    projects: dict[str, Project] | None
    keys_by_project: dict[int, list[ProjectKey]] | None
    # Items of the listings that did not parse: they fail only the project they belong to.
    broken_projects: dict[str, str] = field(default_factory=dict)  # slug -> problem
    broken_keys: dict[int, list[str]] = field(default_factory=dict)  # project id -> problems

    def to_json(self) -> dict[str, Any]:
        keys = None
        if self.keys_by_project is not None:
            keys = [_key_to_json(key) for listed in self.keys_by_project.values() for key in listed]
        projects = None if self.projects is None else [_project_to_json(project) for project in self.projects.values()]
        broken_keys = {str(project_id): problems for project_id, problems in self.broken_keys.items()}
        return {"projects": projects, "keys": keys, "broken_projects": self.broken_projects, "broken_keys": broken_keys}

    @classmethod
    def from_json(cls, document: Any) -> _Snapshot:
        projects = None
        if document["projects"] is not None:
            listed = [Project(**{**raw, "team_slugs": tuple(raw["team_slugs"])}) for raw in document["projects"]]
            projects = {project.slug: project for project in listed}
        keys = document["keys"]
        by_project = None if keys is None else _by_project(_key_from_json(raw) for raw in keys)
        broken_keys = {int(project_id): list(problems) for project_id, problems in document["broken_keys"].items()}
        return cls(
            projects=projects,
            keys_by_project=by_project,
            broken_projects=dict(document["broken_projects"]),
            broken_keys=broken_keys,
        )


def _by_project(keys: Iterable[ProjectKey]) -> dict[int, list[ProjectKey]]:
    grouped: dict[int, list[ProjectKey]] = {}
    for key in keys:
        grouped.setdefault(key.project_id, []).append(key)
    return grouped


# The models' fields are flat values, so a shallow copy of each does; `asdict`
# deep-copies field by field, which at 1000 objects put tens of milliseconds
# on the first check, the one every other check of the run waits behind.
def _project_to_json(project: Project) -> dict[str, Any]:
    return {**vars(project), "team_slugs": list(project.team_slugs)}


def _key_to_json(key: ProjectKey) -> dict[str, Any]:
    raw = dict(vars(key))
    raw["date_created"] = key.date_created.isoformat() if key.date_created else None
    raw["forms"] = [list(pair) for pair in key.forms]
    return raw


def _key_from_json(raw: dict[str, Any]) -> ProjectKey:
    created = raw["date_created"]
    forms = tuple((str(form), str(url)) for form, url in raw.get("forms", ()))
    return ProjectKey(**{**raw, "date_created": datetime.fromisoformat(created) if created else None, "forms": forms})


class OrganizationCatalog:
    """Answers "which project is this slug" and "what are its active keys" from one org-wide fetch."""

    def __init__(self, api: SentryApi, organization: str, *, shared_with: SharedDocument | None = None) -> None:
        self.api = api
        self.organization = organization
        # Where the preview and the update of one `pulumi up` share their read of the organization.
        self._shared_with = shared_with
        self._snapshot: _Once[_Snapshot] = _Once()
        self._details: _OnceMap[Project] = _OnceMap()
        self._project_keys: _OnceMap[list[ProjectKey]] = _OnceMap()
        self._teams: _OnceMap[list[Project]] = _OnceMap()

    def __repr__(self) -> str:
        return f"OrganizationCatalog(organization={self.organization!r}, client={self.api.client!r})"

    def project(self, slug: str) -> Project:
        """The active project `slug`; SentryNotFoundError if it does not exist, KeySelectionError if not active."""
        project = self._lookup(slug)
        if not project.is_active:
            raise KeySelectionError(
                f"project '{slug}' in organization '{self.organization}' is {project.status} in Sentry, so it "
                "has no DSN to publish; restore the project in Sentry or remove it from the stack config"
            )
        return project

    def active_keys(self, project: str) -> list[ProjectKey]:
        """The active client keys of project `project` (a slug), newest data of this process."""
        found = self.project(project)
        snapshot = self._load()
        if found.id in snapshot.broken_keys:
            raise SentryResponseError(
                f"project '{project}': Sentry listed client keys of it that could not be read "
                f"({'; '.join(snapshot.broken_keys[found.id])}); it is not published and keeps its last good "
                "value, other projects are not affected. Check the project's keys in Sentry"
            )
        listed = snapshot.projects is not None and project in snapshot.projects
        if snapshot.keys_by_project is not None and listed and found.id in snapshot.keys_by_project:
            keys = snapshot.keys_by_project[found.id]
        else:
            # Left out of the org-wide answer: Sentry may leave out projects of teams the token's
            # user is not on even with project=-1, so only the project's own endpoint can say
            # whether it has no active key.
            keys = self._project_keys.get(
                project, lambda: self.api.list_project_keys(self.organization, project, status="active")
            )
        return [key for key in keys if key.is_active]

    def team_projects(self, team: str) -> list[Project]:
        """The active projects of `team`, asked of Sentry's team endpoint (404 names the team)."""
        projects = self._teams.get(team, lambda: self.api.list_team_projects(self.organization, team))
        return [p for p in projects if p.is_active]

    def listed_team_projects(self, team: str) -> list[Project]:
        """The active projects that the organization's project list puts on `team`, in its order.

        No request of its own: it waits for the organization's read that every
        check makes anyway. What to publish still comes from `team_projects`
        (the program asks the team's endpoint); this list only lets the
        provider prepare for those projects. Empty when the token cannot list
        the organization.
        """
        projects = self._load().projects or {}
        return [p for p in projects.values() if p.is_active and team in p.team_slugs]

    def _lookup(self, slug: str) -> Project:
        snapshot = self._load()
        if slug in snapshot.broken_projects:
            raise SentryResponseError(
                f"project '{slug}': Sentry listed it in a form that could not be read "
                f"({snapshot.broken_projects[slug]}); it is not published and keeps its last good value, "
                "other projects are not affected"
            )
        if snapshot.projects is not None and slug in snapshot.projects:
            return snapshot.projects[slug]
        # Not listed: ask for it by name, so a missing project is a 404 that names it.
        return self._details.get(slug, lambda: self.api.get_project(self.organization, slug))

    def _load(self) -> _Snapshot:
        return self._snapshot.get(self._shared_or_fetch)

    def _shared_or_fetch(self) -> _Snapshot:
        if self._shared_with is None:
            return self._fetch()
        document = self._shared_with.load()
        if document is not None:
            try:
                return _Snapshot.from_json(document)
            except (KeyError, TypeError, ValueError):
                pass  # written by another version of the tool: read Sentry instead
        snapshot = self._fetch()
        self._shared_with.save(snapshot.to_json())
        return snapshot

    def _fetch(self) -> _Snapshot:
        listed = self.api.iter_organization_projects(self.organization)
        try:
            first = list(itertools.islice(listed, 1))
        except SentryPermissionError:
            # A token with project:read but not org:read can still read each project.
            keys_by_project, broken_keys = self._fetch_keys()
            return _Snapshot(projects=None, keys_by_project=keys_by_project, broken_keys=broken_keys)
        # The first page answered, so the token and the organization are good: the
        # keys are read alongside the remaining project pages, not after them.
        # Before that point a failure costs one request, not one per list.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="sentry-keys") as pool:
            keys = pool.submit(self._fetch_keys)
            projects: dict[str, Project] = {}
            broken_projects: dict[str, str] = {}
            for item in itertools.chain(first, listed):
                if isinstance(item, Project):
                    projects[item.slug] = item
                elif item.project_slug is not None:
                    # An item without a usable slug can be no configured project's: ignored.
                    broken_projects[item.project_slug] = str(item.error)
            keys_by_project, broken_keys = keys.result()
            return _Snapshot(projects, keys_by_project, broken_projects=broken_projects, broken_keys=broken_keys)

    def _fetch_keys(self) -> tuple[dict[int, list[ProjectKey]] | None, dict[int, list[str]]]:
        try:
            listed = self.api.list_organization_project_keys(self.organization, status="active")
        except (SentryNotFoundError, SentryPermissionError):
            # Self-hosted releases before the org-wide keys endpoint answer 404; narrow tokens 403.
            return None, {}
        broken: dict[int, list[str]] = {}
        for item in listed:
            if isinstance(item, MalformedItem) and item.project_id is not None:
                broken.setdefault(item.project_id, []).append(str(item.error))
        return _by_project(key for key in listed if isinstance(key, ProjectKey)), broken


def open_catalog(
    settings: Settings,
    *,
    shared_with: SharedDocument | None = None,
    transport: httpx.BaseTransport | None = None,
    retry: RetryPolicy | None = None,
    announce: Callable[[str], None] | None = None,
) -> OrganizationCatalog:
    """A new catalog of `settings`' organization; it makes no request until first asked.

    `announce` hears of every long wait for Sentry (see :class:`SentryClient`).
    Sharing one catalog between many callers is the caller's business.
    """
    client = SentryClient(
        base_url=settings.sentry_url,
        token=settings.sentry_token,
        token_source=settings.sentry_token_source,
        transport=transport,
        retry=retry,
        announce=announce,
    )
    api = SentryApi(client, dsn_forms=settings.published_dsn_forms)
    return OrganizationCatalog(api, settings.organization, shared_with=shared_with)
