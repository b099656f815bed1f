"""Sentry API objects, parsed once at the edge into frozen dataclasses.

Parsing is where the key's secret part is dropped: `secret` and `dsn.secret`
never reach an object, so no later code can put them into Vault, state,
outputs or a log line by accident.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from sentry_dsn_sync.config import DSN_FORMS
from sentry_dsn_sync.errors import SentryResponseError
from sentry_dsn_sync.paths import SLUG_RULE, is_slug

__all__ = ["KeyStatsBucket", "MalformedItem", "Project", "ProjectKey", "parse_each"]

T = TypeVar("T")

# List endpoints omit `status`: they only list projects that are visible, i.e. active.
_DEFAULT_PROJECT_STATUS = "active"


@dataclass(frozen=True)
class ProjectKey:
    """A client key (DSN) of a project; deliberately without its secret part."""

    id: str
    label: str
    name: str
    public_key: str
    public_dsn: str
    project_id: int
    is_active: bool
    date_created: datetime | None
    # `(form, URL)` for each of DSN_FORMS asked for that the server sent; older releases send fewer.
    forms: tuple[tuple[str, str], ...] = ()

    def form(self, name: str) -> str | None:
        """The URL of one DSN form (`csp`, `cdn`, ...), None when this Sentry does not provide it."""
        return dict(self.forms).get(name)

    @classmethod
    def from_json(cls, data: Any, *, endpoint: str, forms: Collection[str] = DSN_FORMS) -> ProjectKey:
        """Build from one item of the keys endpoints; `endpoint` names where it came from for errors.

        Only the DSN `forms` asked for are kept: Sentry sends about a dozen URLs
        per key, which for an organization of 10000 keys were a third of the
        provider's memory even when no project publishes any of them.
        """
        obj = _Fields(data, what="client key", endpoint=endpoint)
        obj.what = f"client key {obj.label_for_errors}"
        dsn = _Fields(obj.get("dsn", Mapping), what=f"client key {obj.label_for_errors} dsn", endpoint=endpoint)
        name = obj.optional_text("name") or ""
        return cls(
            id=obj.text("id"),
            label=obj.optional_text("label") or name,
            name=name,
            public_key=obj.text("public"),
            public_dsn=dsn.text("public"),
            project_id=obj.integer("projectId"),
            is_active=obj.flag("isActive"),
            date_created=obj.timestamp("dateCreated"),
            forms=tuple((form, url) for form in DSN_FORMS if form in forms and (url := dsn.optional_text(form))),
        )


@dataclass(frozen=True)
class KeyStatsBucket:
    """One bucket of a key's stats: events sent with the key, and what became of them.

    `total` is every event Sentry saw with the key; `filtered` were dropped by
    inbound filters, `dropped` by rate limits or quotas; `accepted` is the rest.
    """

    ts: int
    total: int
    accepted: int
    filtered: int
    dropped: int

    @classmethod
    def from_json(cls, data: Any, *, endpoint: str) -> KeyStatsBucket:
        obj = _Fields(data, what="key stats bucket", endpoint=endpoint)
        return cls(
            ts=obj.count("ts"),
            total=obj.count("total"),
            accepted=obj.count("accepted"),
            filtered=obj.count("filtered"),
            dropped=obj.count("dropped"),
        )


@dataclass(frozen=True)
class Project:
    """A Sentry project as far as publishing its DSN needs it."""

    id: int
    slug: str
    name: str
    status: str
    team_slugs: tuple[str, ...]

    @property
    def is_active(self) -> bool:
        return self.status == "active"

    @classmethod
    def from_json(cls, data: Any, *, endpoint: str) -> Project:
        """Build from a project-details or project-list item; `endpoint` names where it came from for errors."""
        obj = _Fields(data, what="project", endpoint=endpoint)
        slug = obj.text("slug")
        if not is_slug(slug):
            # The slug becomes a Vault path segment: a '/' or '..' here would write elsewhere.
            raise obj._error(f"a project whose 'slug' {slug[:60]!r} is not a Sentry slug ({SLUG_RULE})")
        return cls(
            id=obj.integer("id"),
            slug=slug,
            name=obj.optional_text("name") or slug,
            status=obj.optional_text("status") or _DEFAULT_PROJECT_STATUS,
            team_slugs=_team_slugs(obj),
        )


@dataclass(frozen=True)
class MalformedItem:
    """One item of a listing that did not parse, and the project it belongs to as far as it says."""

    error: SentryResponseError
    project_id: int | None
    project_slug: str | None


def parse_each(
    items: Iterable[Any], parse: Callable[..., T], *, endpoint: str
) -> Iterator[T | MalformedItem]:
    """Each item parsed on its own: a malformed one becomes a MalformedItem, the rest still parse.

    One broken key in an organization-wide listing must fail only its own
    project, not every project of the organization.
    """
    for item in items:
        try:
            yield parse(item, endpoint=endpoint)
        except SentryResponseError as exc:
            yield MalformedItem(error=exc, project_id=_owner_id(item), project_slug=_owner_slug(item))


def _owner_id(item: Any) -> int | None:
    """The project id a malformed item names: `projectId` of a key, `id` of a project (with a slug)."""
    if not isinstance(item, Mapping):
        return None
    value = item.get("projectId", item.get("id") if "slug" in item else None)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return int(value) if isinstance(value, str) and value.isascii() and value.isdigit() else None


def _owner_slug(item: Any) -> str | None:
    slug = item.get("slug") if isinstance(item, Mapping) else None
    return slug if is_slug(slug) else None


def _team_slugs(obj: _Fields) -> tuple[str, ...]:
    teams = obj.get("teams", list, required=False)
    if teams is None:
        # Older servers only send the single `team`.
        team = obj.get("team", Mapping, required=False)
        teams = [team] if team is not None else []
    slugs: list[str] = []
    for index, team in enumerate(teams):
        slugs.append(_Fields(team, what=f"{obj.what} team #{index}", endpoint=obj.endpoint).text("slug"))
    return tuple(slugs)


class _Fields:
    """Typed access to one JSON object, raising an error that names the endpoint and the field."""

    def __init__(self, data: Any, *, what: str, endpoint: str) -> None:
        self.what = what
        self.endpoint = endpoint
        if not isinstance(data, Mapping):
            raise self._error(f"a {what} that is a JSON {type(data).__name__}, not an object")
        self._data: Mapping[str, Any] = data

    @property
    def label_for_errors(self) -> str:
        ident = self._data.get("id")
        return repr(ident)[:60] if isinstance(ident, (str, int)) and not isinstance(ident, bool) else "(no id)"

    def get(self, name: str, kind: type | tuple[type, ...], *, required: bool = True) -> Any:
        value = self._data.get(name)
        if value is None:
            if required:
                raise self._error(f"a {self.what} without '{name}'")
            return None
        if not isinstance(value, kind):
            raise self._error(f"a {self.what} whose '{name}' is a {type(value).__name__}")
        return value

    def text(self, name: str) -> str:
        value: str = self.get(name, str)
        if not value:
            raise self._error(f"a {self.what} with an empty '{name}'")
        return value

    def optional_text(self, name: str) -> str | None:
        value: str | None = self.get(name, str, required=False)
        return value

    def integer(self, name: str) -> int:
        value = self.get(name, (int, str))
        # Sentry sends project ids as strings in some payloads and integers in others.
        if isinstance(value, bool) or (isinstance(value, str) and not (value.isascii() and value.isdigit())):
            raise self._error(f"a {self.what} whose '{name}' is not an integer")
        return int(value)

    def count(self, name: str) -> int:
        value = self._data.get(name)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise self._error(f"a {self.what} whose '{name}' is not a whole number >= 0")
        return value

    def flag(self, name: str) -> bool:
        value = self._data.get(name)
        if not isinstance(value, bool):
            raise self._error(f"a {self.what} whose '{name}' is not true or false")
        return value

    def timestamp(self, name: str) -> datetime | None:
        value = self.get(name, str, required=False)
        if value is None:
            return None
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError as exc:
            raise self._error(f"a {self.what} whose '{name}' is not an ISO 8601 date-time") from exc
        # Naive and aware datetimes cannot be compared; Sentry's timestamps are UTC.
        return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)

    def _error(self, problem: str) -> SentryResponseError:
        # Only field names and types go into the message: the object may hold a key's secret part.
        method, _, url = self.endpoint.partition(" ")
        return SentryResponseError(f"Sentry answered {self.endpoint} with {problem}", method=method, url=url)
