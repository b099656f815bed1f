"""The simulator's starting world: organizations, teams, projects, keys, tokens.

A seed is plain JSON so tests, the demo and benchmarks can describe a Sentry
organization in a few lines. Everything a seed leaves out (ids, public and
secret keys, dates) is derived from a hash of the names around it, so the same
seed yields the same DSNs on every run and in every process: an end-to-end test
can start the simulator twice and expect the DSNs it saw before.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

__all__ = [
    "DEMO_SEED_PATH",
    "KeySeed",
    "OrganizationSeed",
    "ProjectSeed",
    "RateLimitSeed",
    "Seed",
    "SeedError",
    "TeamSeed",
    "MEMBER_ROLES",
    "TOKEN_KINDS",
    "TokenSeed",
    "derive_hex",
    "derive_int",
    "derive_key_part",
    "format_timestamp",
    "generate_seed",
    "load_seed",
    "merge_seeds",
    "parse_seed",
    "parse_timestamp",
]

DEMO_SEED_PATH = Path(__file__).parent / "seeds" / "demo.json"

# Fixed anchors keep derived dates stable across runs (never "now").
_DEFAULT_ORG_CREATED = datetime(2023, 1, 1, tzinfo=timezone.utc)
_DEFAULT_PROJECT_CREATED = datetime(2024, 1, 1, tzinfo=timezone.utc)
_PROJECT_STATUSES = frozenset({"active", "disabled", "pending_deletion", "deletion_in_progress"})


class SeedError(ValueError):
    """The seed file does not describe a valid world; the message names the field."""


def derive_hex(*parts: str) -> str:
    """32 hex characters, the shape of a Sentry key id, public or secret key."""
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:32]


def derive_int(*parts: str, digits: int = 16) -> int:
    """A positive id with Sentry's 16-digit shape, stable for the same parts."""
    value = int(hashlib.sha256("/".join(parts).encode()).hexdigest(), 16)
    floor: int = 10 ** (digits - 1)
    return floor + value % (9 * floor)


def parse_timestamp(value: str, *, where: str) -> datetime:
    """Accepts ISO 8601 with `Z` or an offset; a naive time is refused as ambiguous."""
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (AttributeError, ValueError) as exc:
        raise SeedError(f"{where}: {value!r} is not an ISO 8601 timestamp") from exc
    if parsed.tzinfo is None:
        raise SeedError(f"{where}: {value!r} has no time zone; add 'Z' or an offset")
    return parsed.astimezone(timezone.utc)


def format_timestamp(value: datetime) -> str:
    """Sentry's own format: microseconds and a literal `Z`."""
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class RateLimitSeed:
    window: int
    count: int


@dataclass(frozen=True)
class KeySeed:
    id: str
    label: str
    public: str
    secret: str = field(repr=False)
    is_active: bool
    date_created: datetime
    rate_limit: RateLimitSeed | None = None


@dataclass(frozen=True)
class ProjectSeed:
    id: int
    slug: str
    name: str
    platform: str | None
    status: str
    date_created: datetime
    keys: tuple[KeySeed, ...]
    events_per_hour: int
    silent_after_key_change: bool


@dataclass(frozen=True)
class TeamSeed:
    id: int
    slug: str
    name: str
    project_slugs: tuple[str, ...]


@dataclass(frozen=True)
class OrganizationSeed:
    id: int
    slug: str
    name: str
    date_created: datetime
    dsn_scheme: str
    ingest_host: str
    teams: tuple[TeamSeed, ...]
    projects: tuple[ProjectSeed, ...]


TOKEN_KINDS = frozenset({"user", "integration", "organization"})
MEMBER_ROLES = frozenset({"owner", "manager", "admin", "member"})


@dataclass(frozen=True)
class TokenSeed:
    """Who a token acts for, as Sentry sees it.

    `user`: a user auth token, acting with its user's organization role and team
    memberships (`teams`); owners, managers and admins may still read projects of
    teams they are not on. `integration`: an internal integration's token, which
    is a member of every team. `organization`: an organization auth token
    (`sntrys_...`), which Sentry issues with the `org:ci` scope only.
    """

    token: str = field(repr=False)
    scopes: frozenset[str]
    kind: str = "user"
    role: str = "owner"
    teams: frozenset[str] = frozenset()
    superuser: bool = False


@dataclass(frozen=True)
class Seed:
    organizations: tuple[OrganizationSeed, ...]
    tokens: tuple[TokenSeed, ...]


def load_seed(path: str | Path) -> Seed:
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise SeedError(f"cannot read seed file {path}: {exc.strerror}") from exc
    except json.JSONDecodeError as exc:
        raise SeedError(f"seed file {path} is not JSON: {exc}") from exc
    return parse_seed(raw)


def parse_seed(raw: Mapping[str, Any]) -> Seed:
    """Validates once at the edge so the server never meets a half-formed world."""
    if not isinstance(raw, Mapping):
        raise SeedError("seed: expected a JSON object with 'organizations' and 'tokens'")
    orgs = tuple(
        _parse_organization(org, where=f"organizations[{i}]")
        for i, org in enumerate(_list(raw, "organizations", where="seed"))
    )
    _require_unique([o.slug for o in orgs], what="organization slug")
    _require_unique([str(o.id) for o in orgs], what="organization id")
    tokens = tuple(
        _parse_token(tok, where=f"tokens[{i}]") for i, tok in enumerate(_list(raw, "tokens", where="seed"))
    )
    known_teams = {team.slug for org in orgs for team in org.teams}
    for i, token in enumerate(tokens):
        unknown = sorted(token.teams - known_teams)
        if unknown:
            raise SeedError(f"tokens[{i}].teams: {unknown} are not teams of any organization")
    return Seed(organizations=orgs, tokens=tokens)


def merge_seeds(*seeds: Seed) -> Seed:
    """Lets the CLI serve a hand-written seed and a generated benchmark org side by side."""
    merged = Seed(
        organizations=tuple(org for s in seeds for org in s.organizations),
        tokens=tuple(tok for s in seeds for tok in s.tokens),
    )
    _require_unique([o.slug for o in merged.organizations], what="organization slug")
    return merged


def generate_seed(
    organization: str = "bench",
    projects: int = 500,
    keys_per_project: int = 1,
    token: str = "bench-token",
    *,
    teams: int = 5,
    events_per_hour: int = 60,
) -> dict[str, Any]:
    """A large, regular organization for benchmarks, as seed JSON (a dict).

    Projects are spread round-robin over `teams` teams; the token is an
    internal integration's, so it sees every team. With more than one key
    per project, every key is active and each is a day newer than the one
    before, so the newest key is the one a sync should publish.
    """
    if projects < 0 or keys_per_project < 0 or teams < 1:
        raise SeedError("generate_seed: projects and keys_per_project must be >= 0, teams >= 1")
    team_slugs = [f"team-{t:02d}" for t in range(teams)]
    project_slugs = [f"project-{p:04d}" for p in range(projects)]
    return {
        "organizations": [
            {
                "slug": organization,
                "name": organization.title(),
                "teams": [
                    {"slug": slug, "name": slug.replace("-", " ").title(), "projects": project_slugs[t::teams]}
                    for t, slug in enumerate(team_slugs)
                ],
                "projects": [
                    {
                        "slug": slug,
                        "name": slug,
                        "platform": "python",
                        "eventsPerHour": events_per_hour,
                        "keys": [
                            {
                                "label": "Default" if k == 0 else f"Rotated {k}",
                                "isActive": True,
                                "dateCreated": format_timestamp(_DEFAULT_PROJECT_CREATED + timedelta(days=k)),
                            }
                            for k in range(keys_per_project)
                        ],
                    }
                    for slug in project_slugs
                ],
            }
        ],
        # The token the README recommends: an internal integration's, a member of every team.
        "tokens": [{"token": token, "scopes": ["org:read", "project:read", "team:read"], "kind": "integration"}],
    }


# -- parsing helpers ---------------------------------------------------------


def _parse_organization(raw: Any, *, where: str) -> OrganizationSeed:
    obj = _object(raw, where=where)
    slug = _str(obj, "slug", where=where)
    org_id = _int(obj, "id", where=where, default=derive_int("organization", slug))
    projects = tuple(
        _parse_project(p, org_slug=slug, index=i, where=f"{where}.projects[{i}]")
        for i, p in enumerate(_list(obj, "projects", where=where))
    )
    _require_unique([p.slug for p in projects], what=f"project slug in {slug}")
    _require_unique([str(p.id) for p in projects], what=f"project id in {slug}")
    _require_unique([k.id for p in projects for k in p.keys], what=f"key id in {slug}")
    known = {p.slug for p in projects}
    teams = tuple(
        _parse_team(t, org_slug=slug, known_projects=known, where=f"{where}.teams[{i}]")
        for i, t in enumerate(_list(obj, "teams", where=where, default=[]))
    )
    _require_unique([t.slug for t in teams], what=f"team slug in {slug}")
    return OrganizationSeed(
        id=org_id,
        slug=slug,
        name=_str(obj, "name", where=where, default=slug),
        date_created=_timestamp(obj, "dateCreated", where=where, default=_DEFAULT_ORG_CREATED),
        dsn_scheme=_str(obj, "dsnScheme", where=where, default="https"),
        ingest_host=_str(obj, "ingestHost", where=where, default=f"o{org_id}.ingest.us.sentry.io"),
        teams=teams,
        projects=projects,
    )


def _parse_team(raw: Any, *, org_slug: str, known_projects: set[str], where: str) -> TeamSeed:
    obj = _object(raw, where=where)
    slug = _str(obj, "slug", where=where)
    members = tuple(_list(obj, "projects", where=where, default=[]))
    for member in members:
        if member not in known_projects:
            raise SeedError(f"{where}.projects: {member!r} is not a project of organization {org_slug!r}")
    return TeamSeed(
        id=_int(obj, "id", where=where, default=derive_int("team", org_slug, slug, digits=7)),
        slug=slug,
        name=_str(obj, "name", where=where, default=slug),
        project_slugs=members,
    )


def _parse_project(raw: Any, *, org_slug: str, index: int, where: str) -> ProjectSeed:
    obj = _object(raw, where=where)
    slug = _str(obj, "slug", where=where)
    status = _str(obj, "status", where=where, default="active")
    if status not in _PROJECT_STATUSES:
        raise SeedError(f"{where}.status: {status!r} is not one of {sorted(_PROJECT_STATUSES)}")
    created = _timestamp(
        obj, "dateCreated", where=where, default=_DEFAULT_PROJECT_CREATED + timedelta(hours=index)
    )
    keys = tuple(
        _parse_key(k, org_slug=org_slug, project_slug=slug, index=i, project_created=created,
                   where=f"{where}.keys[{i}]")
        for i, k in enumerate(_list(obj, "keys", where=where, default=[]))
    )
    platform = obj.get("platform")
    if platform is not None and not isinstance(platform, str):
        raise SeedError(f"{where}.platform: expected a string or null")
    events = _int(obj, "eventsPerHour", where=where, default=0)
    if events < 0:
        raise SeedError(f"{where}.eventsPerHour: must be >= 0, got {events}")
    return ProjectSeed(
        id=_int(obj, "id", where=where, default=derive_int("project", org_slug, slug)),
        slug=slug,
        name=_str(obj, "name", where=where, default=slug),
        platform=platform,
        status=status,
        date_created=created,
        keys=keys,
        events_per_hour=events,
        silent_after_key_change=_bool(obj, "silentAfterKeyChange", where=where, default=False),
    )


def _parse_key(
    raw: Any, *, org_slug: str, project_slug: str, index: int, project_created: datetime, where: str
) -> KeySeed:
    obj = _object(raw, where=where)
    label = _str(obj, "label", where=where, default="Default")
    # Sentry's key id *is* its public key; follow that unless the seed says otherwise.
    public = _hex32(obj, "public", where=where) or _hex32(obj, "id", where=where)
    public = public or derive_key_part("public", org_slug, project_slug, label, index)
    rate_limit = obj.get("rateLimit")
    if rate_limit is not None:
        rl = _object(rate_limit, where=f"{where}.rateLimit")
        rate_limit = RateLimitSeed(
            window=_int(rl, "window", where=f"{where}.rateLimit"),
            count=_int(rl, "count", where=f"{where}.rateLimit"),
        )
    return KeySeed(
        id=_hex32(obj, "id", where=where) or public,
        label=label,
        public=public,
        secret=_hex32(obj, "secret", where=where) or derive_key_part("secret", org_slug, project_slug, label, index),
        is_active=_bool(obj, "isActive", where=where, default=True),
        date_created=_timestamp(obj, "dateCreated", where=where, default=project_created + timedelta(seconds=index)),
        rate_limit=rate_limit,
    )


def derive_key_part(part: str, org_slug: str, project_slug: str, label: str, index: int) -> str:
    """The ordinal keeps two keys with one label (a rotation keeping "Default") distinct."""
    return derive_hex(part, org_slug, project_slug, label, str(index))


def _parse_token(raw: Any, *, where: str) -> TokenSeed:
    obj = _object(raw, where=where)
    kind = _str(obj, "kind", where=where, default="user")
    if kind not in TOKEN_KINDS:
        raise SeedError(f"{where}.kind: {kind!r} is not one of {sorted(TOKEN_KINDS)}")
    scopes = _list(obj, "scopes", where=where, default=["org:ci"] if kind == "organization" else [])
    teams = _list(obj, "teams", where=where, default=[])
    if not all(isinstance(s, str) for s in scopes) or not all(isinstance(t, str) for t in teams):
        raise SeedError(f"{where}.scopes and {where}.teams: expected lists of strings")
    role = _str(obj, "role", where=where, default="owner")
    if role not in MEMBER_ROLES:
        raise SeedError(f"{where}.role: {role!r} is not one of {sorted(MEMBER_ROLES)}")
    return TokenSeed(
        token=_str(obj, "token", where=where),
        scopes=frozenset(scopes),
        kind=kind,
        role=role,
        teams=frozenset(teams),
        superuser=_bool(obj, "superuser", where=where, default=False),
    )


_MISSING: Any = object()


def _object(raw: Any, *, where: str) -> Mapping[str, Any]:
    if not isinstance(raw, Mapping):
        raise SeedError(f"{where}: expected an object, got {type(raw).__name__}")
    return raw


def _get(obj: Mapping[str, Any], name: str, *, where: str, default: Any) -> Any:
    value = obj.get(name, default)
    if value is _MISSING:
        raise SeedError(f"{where}.{name}: required")
    return value


def _str(obj: Mapping[str, Any], name: str, *, where: str, default: Any = _MISSING) -> str:
    value = _get(obj, name, where=where, default=default)
    if not isinstance(value, str) or not value:
        raise SeedError(f"{where}.{name}: expected a non-empty string, got {value!r}")
    return value


def _int(obj: Mapping[str, Any], name: str, *, where: str, default: Any = _MISSING) -> int:
    value = _get(obj, name, where=where, default=default)
    # Seeds written by hand often quote ids the way the API returns them.
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        raise SeedError(f"{where}.{name}: expected an integer, got {value!r}")
    return value


def _bool(obj: Mapping[str, Any], name: str, *, where: str, default: Any = _MISSING) -> bool:
    value = _get(obj, name, where=where, default=default)
    if not isinstance(value, bool):
        raise SeedError(f"{where}.{name}: expected true or false, got {value!r}")
    return value


def _list(obj: Mapping[str, Any], name: str, *, where: str, default: Any = _MISSING) -> Sequence[Any]:
    value = _get(obj, name, where=where, default=default)
    if not isinstance(value, list):
        raise SeedError(f"{where}.{name}: expected a list, got {type(value).__name__}")
    return value


def _timestamp(obj: Mapping[str, Any], name: str, *, where: str, default: datetime) -> datetime:
    value = obj.get(name)
    return default if value is None else parse_timestamp(value, where=f"{where}.{name}")


def _hex32(obj: Mapping[str, Any], name: str, *, where: str) -> str | None:
    value = obj.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) != 32 or any(c not in "0123456789abcdef" for c in value):
        raise SeedError(f"{where}.{name}: expected 32 lowercase hex characters")
    return value


def _require_unique(values: Sequence[str], *, what: str) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise SeedError(f"duplicate {what}: {value!r}")
        seen.add(value)
