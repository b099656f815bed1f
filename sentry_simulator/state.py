"""The live, mutable world the simulator serves, behind one lock.

Request threads only ever get snapshots out of here (frozen records, fresh
lists, and tuples kept until the next change), so they can serialize a response
after the lock is released while an admin call rotates a key on another thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import Any, TypeVar

from .traffic import KeyTraffic, TrafficSegment
from .seed import (
    KeySeed,
    OrganizationSeed,
    ProjectSeed,
    RateLimitSeed,
    Seed,
    TokenSeed,
    derive_key_part,
)

__all__ = [
    "Key",
    "Organization",
    "Principal",
    "Project",
    "SimulatorState",
    "Team",
    "UnknownResource",
]


_Answer = TypeVar("_Answer")


class UnknownResource(LookupError):
    """An admin call named an organization, project or key that does not exist."""


@dataclass(frozen=True)
class Organization:
    id: int
    slug: str
    name: str
    date_created: datetime
    dsn_scheme: str
    ingest_host: str


@dataclass(frozen=True)
class Team:
    id: int
    slug: str
    name: str


@dataclass(frozen=True)
class Project:
    id: int
    slug: str
    name: str
    platform: str | None
    status: str
    date_created: datetime
    events_per_hour: int
    silent_after_key_change: bool
    teams: tuple[Team, ...]


@dataclass(frozen=True)
class Key:
    id: str
    label: str
    public: str
    secret: str = field(repr=False)
    project_id: int
    is_active: bool
    date_created: datetime
    rate_limit: RateLimitSeed | None
    # Creation order, standing in for Sentry's database id: lists sort by "-id".
    seq: int


_GLOBAL_ROLES = frozenset({"owner", "manager", "admin"})


@dataclass(frozen=True)
class Principal:
    """Who a token acts for: its scopes plus the team memberships Sentry checks project access against."""

    scopes: frozenset[str]
    kind: str
    role: str
    teams: frozenset[str]
    superuser: bool

    @classmethod
    def from_seed(cls, seed: TokenSeed) -> Principal:
        return cls(scopes=seed.scopes, kind=seed.kind, role=seed.role, teams=seed.teams, superuser=seed.superuser)

    def is_member(self, project: Project) -> bool:
        """On one of the project's teams; an internal integration is on every team."""
        return self.kind == "integration" or any(team.slug in self.teams for team in project.teams)

    def has_access(self, project: Project) -> bool:
        """Sentry's `has_project_access`: membership, or an organization role with global access."""
        return self.is_member(project) or (self.kind == "user" and self.role in _GLOBAL_ROLES)


@dataclass
class _ProjectRecord:
    project: Project
    keys: list[Key]
    key_slots: int  # keys ever created here; feeds deterministic ids of new keys


@dataclass
class _OrganizationRecord:
    organization: Organization
    projects: dict[str, _ProjectRecord]  # by slug, in slug order
    projects_by_id: dict[int, str]
    teams: dict[str, Team]  # by slug
    teams_by_id: dict[int, str]
    team_projects: dict[str, tuple[str, ...]]
    # Old slugs of renamed projects -> project id, as Sentry's ProjectRedirect table.
    redirects: dict[str, int] = field(default_factory=dict)


class SimulatorState:
    """Thread-safe store; `reset()` rebuilds it from the seed it was made with."""

    def __init__(self, seed: Seed) -> None:
        self._seed = seed
        self._lock = threading.RLock()
        self._orgs: dict[str, _OrganizationRecord] = {}
        self._orgs_by_id: dict[int, str] = {}
        self._tokens: dict[str, Principal] = {}
        self._next_seq = 0
        # Scripted per-key traffic by (organization slug, project slug); see traffic.py.
        self._traffic: dict[tuple[str, str], dict[str, tuple[TrafficSegment, ...]]] = {}
        # Answers of `until_changed`, dropped at every change to a project or key.
        self._answers: dict[Hashable, Any] = {}
        self.reset()

    @property
    def seed(self) -> Seed:
        return self._seed

    def reset(self) -> None:
        with self._lock:
            self._orgs = {}
            self._orgs_by_id = {}
            self._next_seq = 0
            for org_seed in self._seed.organizations:
                record = self._build_organization(org_seed)
                self._orgs[org_seed.slug] = record
                self._orgs_by_id[org_seed.id] = org_seed.slug
            self._tokens = {t.token: Principal.from_seed(t) for t in self._seed.tokens}
            self._traffic = {}
            self._answers = {}

    def until_changed(self, asked: Hashable, compute: Callable[[], _Answer]) -> _Answer:
        """`compute()`'s answer to `asked`, kept until a project or key changes.

        A benchmark lists thousands of projects and keys a hundred a page; without
        this each page would gather, filter and sort all of them again, where
        Sentry's indexes make a page cost the same in a list of any length.
        The answer is shared between requests, so it must be immutable.
        """
        with self._lock:
            if asked not in self._answers:
                self._answers[asked] = compute()
            answer: _Answer = self._answers[asked]
            return answer

    # -- lookups ---------------------------------------------------------------

    def principal_for(self, token: str) -> Principal | None:
        with self._lock:
            return self._tokens.get(token)

    def renamed_project(self, org_ref: str, old_slug: str) -> Project | None:
        """The active project an old slug of it now redirects to, if any."""
        with self._lock:
            org = self._org_record(org_ref)
            if org is None or old_slug in org.projects or old_slug not in org.redirects:
                return None
            slug = org.projects_by_id.get(org.redirects[old_slug])
            record = org.projects.get(slug) if slug else None
            return record.project if record and record.project.status == "active" else None

    def organization(self, ref: str) -> Organization | None:
        with self._lock:
            record = self._org_record(ref)
            return record.organization if record else None

    def project(self, org_ref: str, project_ref: str) -> Project | None:
        """Only active projects exist for the API; others are on their way out."""
        with self._lock:
            record = self._project_record(org_ref, project_ref)
            return record.project if record else None

    def team(self, org_ref: str, team_ref: str) -> Team | None:
        with self._lock:
            org = self._org_record(org_ref)
            if org is None:
                return None
            slug = _by_id_or_slug(team_ref, org.teams, org.teams_by_id)
            return org.teams[slug] if slug else None

    def projects(self, org_ref: str, *, team: Team | None = None) -> tuple[Project, ...]:
        """Active projects in slug order, as Sentry's project lists sort them."""
        with self._lock:
            org = self._org_record(org_ref)
            if org is None:
                return ()

            def active_in_slug_order() -> tuple[Project, ...]:
                slugs = sorted(org.team_projects.get(team.slug, ())) if team else list(org.projects)
                return tuple(org.projects[s].project for s in slugs if org.projects[s].project.status == "active")

            return self.until_changed(("projects", org.organization.slug, team.slug if team else None),
                                      active_in_slug_order)

    def project_keys(self, org_ref: str, project_ref: str, *, status: str | None = None) -> list[Key]:
        with self._lock:
            record = self._project_record(org_ref, project_ref)
            keys = list(record.keys) if record else []
        return _newest_first(_with_status(keys, status))

    def project_key(self, org_ref: str, project_ref: str, key_id: str) -> Key | None:
        with self._lock:
            record = self._project_record(org_ref, project_ref)
            return next((k for k in record.keys if k.id == key_id), None) if record else None

    def organization_keys(
        self,
        org_ref: str,
        *,
        team: Team | None = None,
        status: str | None = None,
        project_ids: frozenset[int] | None = None,
    ) -> tuple[Key, ...]:
        """`project_ids`: only the keys of these projects (the ones the token may see)."""
        with self._lock:
            org = self._org_record(org_ref)
            if org is None:
                return ()

            def newest_first() -> tuple[Key, ...]:
                slugs = org.team_projects.get(team.slug, ()) if team else tuple(org.projects)
                keys = [
                    key
                    for slug in slugs
                    if org.projects[slug].project.status == "active"
                    and (project_ids is None or org.projects[slug].project.id in project_ids)
                    for key in org.projects[slug].keys
                ]
                return tuple(_newest_first(_with_status(keys, status)))

            return self.until_changed(
                ("keys", org.organization.slug, team.slug if team else None, status, project_ids), newest_first
            )

    def last_key_change(self, org_ref: str, project_ref: str) -> datetime | None:
        """When the project's newest key appeared: a "silent" project stops sending then."""
        with self._lock:
            record = self._project_record(org_ref, project_ref)
            if record is None or not record.keys:
                return None
            return max(k.date_created for k in record.keys)

    def key_traffic(self, org_ref: str, project_ref: str) -> list[KeyTraffic]:
        """Every key's traffic segments: the scripted ones, else the project's rate on its newest key."""
        with self._lock:
            record = self._project_record(org_ref, project_ref)
            org = self._org_record(org_ref)
            if record is None or org is None:
                return []
            scripted = self._traffic.get((org.organization.slug, record.project.slug))
            if scripted is not None:
                return [KeyTraffic(key.id, scripted.get(key.id, ())) for key in record.keys]
            return _default_traffic(record)

    def has_scripted_traffic(self, org_ref: str, project_ref: str) -> bool:
        with self._lock:
            record = self._project_record(org_ref, project_ref)
            org = self._org_record(org_ref)
            return record is not None and org is not None and (
                (org.organization.slug, record.project.slug) in self._traffic
            )

    # -- mutations (admin API) -------------------------------------------------

    def set_traffic(
        self, org_ref: str, project_ref: str, per_key: Mapping[str, tuple[TrafficSegment, ...]]
    ) -> None:
        """Script the project's traffic key by key; an empty mapping goes back to the default."""
        with self._lock:
            org = self._org_record(org_ref)
            record = self._project_record(org_ref, project_ref)
            if org is None or record is None:
                raise UnknownResource(f"no project {project_ref!r} in organization {org_ref!r}")
            known = {key.id for key in record.keys}
            unknown = sorted(set(per_key) - known)
            if unknown:
                raise UnknownResource(f"no key {unknown[0]!r} in project {project_ref!r}")
            where = (org.organization.slug, record.project.slug)
            if per_key:
                self._traffic[where] = dict(per_key)
            else:
                self._traffic.pop(where, None)

    def create_key(
        self,
        org_ref: str,
        project_ref: str,
        *,
        label: str,
        is_active: bool = True,
        date_created: datetime | None = None,
    ) -> Key:
        """A rotation: the new key is strictly newer than every key the project has.

        `date_created` backdates it (never before the project's newest key), so
        tests can replay a rotation that started hours ago.
        """
        with self._lock:
            org = self._org_record(org_ref)
            record = self._project_record(org_ref, project_ref)
            if org is None or record is None:
                raise UnknownResource(f"no project {project_ref!r} in organization {org_ref!r}")
            now = datetime.now(timezone.utc)
            newest = max((k.date_created for k in record.keys), default=now - timedelta(seconds=1))
            slot = record.key_slots
            record.key_slots += 1
            args = (org.organization.slug, record.project.slug, label, slot)
            public = derive_key_part("public", *args)
            key = Key(
                id=public,
                label=label,
                public=public,
                secret=derive_key_part("secret", *args),
                project_id=record.project.id,
                is_active=is_active,
                date_created=max(date_created or now, newest + timedelta(milliseconds=1)),
                rate_limit=None,
                seq=self._take_seq(),
            )
            record.keys.append(key)
            self._answers.clear()
            return key

    def set_key_active(self, org_ref: str, project_ref: str, key_id: str, *, active: bool) -> Key:
        with self._lock:
            record = self._project_record(org_ref, project_ref)
            if record is None:
                raise UnknownResource(f"no project {project_ref!r} in organization {org_ref!r}")
            for i, key in enumerate(record.keys):
                if key.id == key_id:
                    updated = replace(key, is_active=active)
                    record.keys[i] = updated
                    self._answers.clear()
                    return updated
            raise UnknownResource(f"no key {key_id!r} in project {project_ref!r}")

    def rename_project(self, org_ref: str, project_ref: str, new_slug: str) -> Project:
        """What renaming a project in Sentry's settings does: the old slug answers with a redirect."""
        with self._lock:
            org = self._org_record(org_ref)
            record = self._project_record(org_ref, project_ref)
            if org is None or record is None:
                raise UnknownResource(f"no project {project_ref!r} in organization {org_ref!r}")
            old = record.project.slug
            if new_slug in org.projects:
                raise ValueError(f"organization {org_ref!r} already has a project {new_slug!r}")
            record.project = replace(record.project, slug=new_slug)
            del org.projects[old]
            org.projects[new_slug] = record
            org.projects = dict(sorted(org.projects.items()))
            org.projects_by_id[record.project.id] = new_slug
            org.team_projects = {
                team: tuple(new_slug if slug == old else slug for slug in slugs)
                for team, slugs in org.team_projects.items()
            }
            org.redirects.pop(new_slug, None)
            org.redirects[old] = record.project.id
            self._answers.clear()
            return record.project

    # -- internals -------------------------------------------------------------

    def _take_seq(self) -> int:
        self._next_seq += 1
        return self._next_seq

    def _org_record(self, ref: str) -> _OrganizationRecord | None:
        slug = _by_id_or_slug(ref, self._orgs, self._orgs_by_id)
        return self._orgs[slug] if slug else None

    def _project_record(self, org_ref: str, project_ref: str) -> _ProjectRecord | None:
        org = self._org_record(org_ref)
        if org is None:
            return None
        slug = _by_id_or_slug(project_ref, org.projects, org.projects_by_id)
        if slug is None or org.projects[slug].project.status != "active":
            return None
        return org.projects[slug]

    def _build_organization(self, seed: OrganizationSeed) -> _OrganizationRecord:
        teams = {t.slug: Team(id=t.id, slug=t.slug, name=t.name) for t in seed.teams}
        teams_of: dict[str, list[Team]] = {}
        for team_seed in seed.teams:
            for slug in team_seed.project_slugs:
                teams_of.setdefault(slug, []).append(teams[team_seed.slug])
        # Database ids follow creation time, so number the seed's keys in that order.
        ordered = sorted(
            ((k.date_created, pi, ki) for pi, p in enumerate(seed.projects) for ki, k in enumerate(p.keys))
        )
        seqs = {(pi, ki): self._take_seq() for _, pi, ki in ordered}
        projects: dict[str, _ProjectRecord] = {}
        for pi, p in sorted(enumerate(seed.projects), key=lambda item: item[1].slug):
            project = _project_from_seed(p, tuple(teams_of.get(p.slug, ())))
            keys = [_key_from_seed(k, project.id, seqs[(pi, ki)]) for ki, k in enumerate(p.keys)]
            projects[p.slug] = _ProjectRecord(project=project, keys=keys, key_slots=len(keys))
        return _OrganizationRecord(
            organization=Organization(
                id=seed.id,
                slug=seed.slug,
                name=seed.name,
                date_created=seed.date_created,
                dsn_scheme=seed.dsn_scheme,
                ingest_host=seed.ingest_host,
            ),
            projects=projects,
            projects_by_id={p.id: p.slug for p in seed.projects},
            teams=teams,
            teams_by_id={t.id: t.slug for t in seed.teams},
            team_projects={t.slug: t.project_slugs for t in seed.teams},
        )


def _default_traffic(record: _ProjectRecord) -> list[KeyTraffic]:
    """Each key gets the project's rate from its creation until the next key appears.

    A `silentAfterKeyChange` project gets nothing once its newest key exists.
    """
    project = record.project
    ordered = sorted(record.keys, key=lambda k: (k.date_created, k.seq))
    traffic: list[KeyTraffic] = []
    for index, key in enumerate(ordered):
        start = max(key.date_created, project.date_created).timestamp()
        following = ordered[index + 1].date_created.timestamp() if index + 1 < len(ordered) else None
        if following is None and project.silent_after_key_change:
            following = start
        segment = TrafficSegment(since=start, until=following, accepted=project.events_per_hour)
        traffic.append(KeyTraffic(key.id, (segment,)))
    return traffic


def _project_from_seed(seed: ProjectSeed, teams: tuple[Team, ...]) -> Project:
    return Project(
        id=seed.id,
        slug=seed.slug,
        name=seed.name,
        platform=seed.platform,
        status=seed.status,
        date_created=seed.date_created,
        events_per_hour=seed.events_per_hour,
        silent_after_key_change=seed.silent_after_key_change,
        teams=teams,
    )


def _key_from_seed(seed: KeySeed, project_id: int, seq: int) -> Key:
    return Key(
        id=seed.id,
        label=seed.label,
        public=seed.public,
        secret=seed.secret,
        project_id=project_id,
        is_active=seed.is_active,
        date_created=seed.date_created,
        rate_limit=seed.rate_limit,
        seq=seq,
    )


def _by_id_or_slug(ref: str, by_slug: Mapping[str, object], by_id: Mapping[int, str]) -> str | None:
    """Sentry accepts either; a numeric reference is tried as an id first."""
    if ref.isdigit() and int(ref) in by_id:
        return by_id[int(ref)]
    return ref if ref in by_slug else None


def _with_status(keys: list[Key], status: str | None) -> list[Key]:
    # Sentry answers an unknown status with an empty list, not an error.
    if status is None or status == "":
        return keys
    if status == "active":
        return [k for k in keys if k.is_active]
    if status == "inactive":
        return [k for k in keys if not k.is_active]
    return []


def _newest_first(keys: list[Key]) -> list[Key]:
    return sorted(keys, key=lambda k: k.seq, reverse=True)
