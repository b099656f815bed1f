"""Which of a project's client keys is "the active public DSN".

The rule (README, "Which key is published"): only active keys
count; an explicit `keyId` or `keyLabel` wins; otherwise the newest key is
published, so a key created for a rotation goes out while the old one still
works (make before break). An inactive key is never chosen.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from sentry_dsn_sync.errors import KeySelectionError
from sentry_dsn_sync.sentry._models import ProjectKey

__all__ = ["KeyChoice", "choose_key"]

_CREATE_KEY_HINT = "create or re-activate a client key in Sentry: Project Settings > Client Keys"
_OLDEST = datetime.min.replace(tzinfo=UTC)

SelectedBy = Literal["keyId", "keyLabel", "newest"]


@dataclass(frozen=True)
class KeyChoice:
    """The chosen key, and the other active keys so the caller can warn about them."""

    key: ProjectKey
    other_active: tuple[ProjectKey, ...]
    project: str = ""
    selected_by: SelectedBy = "newest"

    def warning(self) -> str | None:
        """A message naming every active key and the chosen one, when the choice was implicit.

        With `keyId` or `keyLabel` set, the user already chose, so several
        active keys are expected (a rotation in progress) and not worth a warning.
        """
        if self.selected_by != "newest" or not self.other_active:
            return None
        everyone = ", ".join(_describe(k) for k in (self.key, *self.other_active))
        return (
            f"project '{self.project}' has {1 + len(self.other_active)} active client keys ({everyone}); "
            f"publishing the newest, {_describe(self.key)}. Set keyId or keyLabel for this project to pin one, "
            "or deactivate the old key once every client uses the new DSN"
        )


def choose_key(
    keys: Sequence[ProjectKey], *, project: str, key_id: str | None, key_label: str | None
) -> KeyChoice:
    """Apply the selection rule to a project's keys (active or not); raise KeySelectionError if nothing fits."""
    active = sorted((k for k in keys if k.is_active), key=_age, reverse=True)
    if not active:
        raise KeySelectionError(f"project '{project}' has no active client key (DSN); {_CREATE_KEY_HINT}")
    if key_id is not None:
        chosen = _by_id(keys, active, project=project, key_id=key_id)
        selected_by: SelectedBy = "keyId"
    elif key_label is not None:
        chosen = _by_label(active, project=project, key_label=key_label)
        selected_by = "keyLabel"
    else:
        chosen, selected_by = active[0], "newest"
    others = tuple(k for k in active if k is not chosen)
    return KeyChoice(key=chosen, other_active=others, project=project, selected_by=selected_by)


def _by_id(keys: Sequence[ProjectKey], active: list[ProjectKey], *, project: str, key_id: str) -> ProjectKey:
    for key in active:
        if key.id == key_id:
            return key
    if any(k.id == key_id for k in keys):
        raise KeySelectionError(
            f"project '{project}': the client key with keyId '{key_id}' is inactive; re-activate it in Sentry "
            f"(Project Settings > Client Keys) or set keyId to an active key: {_list(active)}"
        )
    raise KeySelectionError(
        f"project '{project}' has no active client key with keyId '{key_id}' (it does not exist or is "
        f"inactive); set keyId to one of the active keys: {_list(active)}, or remove keyId to publish the newest"
    )


def _by_label(active: list[ProjectKey], *, project: str, key_label: str) -> ProjectKey:
    # Labels are not unique in Sentry; among equal labels the newest wins, as without a label.
    for key in active:
        if key.label == key_label:
            return key
    raise KeySelectionError(
        f"project '{project}' has no active client key labelled '{key_label}'; set keyLabel to one of the "
        f"active keys: {_list(active)}, or {_CREATE_KEY_HINT}"
    )


def _age(key: ProjectKey) -> tuple[datetime, int, str]:
    """Ascending age order: `dateCreated` (a key without one counts as oldest), then id."""
    # Key ids are hex public keys (or decimal on old servers); reading both as hex keeps their order.
    try:
        number = int(key.id, 16)
    except ValueError:
        number = -1
    return (key.date_created or _OLDEST, number, key.id)


def _describe(key: ProjectKey) -> str:
    created = key.date_created.isoformat() if key.date_created else "creation date unknown"
    return f"'{key.label}' (id {key.id}, created {created})"


def _list(keys: Sequence[ProjectKey]) -> str:
    return ", ".join(_describe(k) for k in keys)
