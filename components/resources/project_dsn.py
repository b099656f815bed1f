"""`ProjectDsn`: one Sentry project's active public DSN, published into Vault.

One resource per project does both halves (read Sentry, write Vault): a run
over hundreds of projects then costs the engine one resource per project, and
the value written to Vault is, by construction, the one the preview showed.

* `check` reads Sentry (through the per-process organization catalog) and puts
  the chosen key into the inputs, so `pulumi preview --diff` shows a rotation
  as `dsn: old => new` instead of an unknown. It also reads the Vault secret
  and records fields someone changed by hand in `vault_drift`, so drift shows
  up in a plain preview without `--refresh`.
* `create`/`update` write only the tool's fields, and only when they differ.
* `delete` applies the configured `onDelete` policy.
* `read` (refresh) reports what is really in Vault.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    ConfigureRequest,
    CreateResult,
    DiffResult,
    ReadResult,
    Resource,
    ResourceProvider,
    UpdateResult,
)

from components.errors import SentryDsnSyncError
from components.resources.runtime import runtime
from components.sentry import choose_key

__all__ = ["MANAGED_BY", "PUBLISHED_FIELDS", "ProjectDsn", "ProjectDsnArgs", "ProjectDsnProvider"]

MANAGED_BY = "sentry-dsn-sync"
# The fields this tool owns in each Vault secret; everything else there is someone else's.
PUBLISHED_FIELDS = ("dsn", "public_key", "project_id", "project_slug", "organization", "key_id")
# Inputs that decide where the secret lives: changing one moves the secret.
LOCATION_FIELDS = ("vault_mount", "vault_path", "kv_version")
MISSING = "(missing)"


@dataclass(frozen=True)
class ProjectDsnArgs:
    """What the program knows about one project before Sentry is read."""

    organization: str
    project: str
    stack: str
    sentry_url: str
    vault_mount: str
    vault_path: str
    kv_version: int
    on_delete: str
    select_key_id: str | None = None
    select_key_label: str | None = None

    def to_inputs(self) -> dict[str, Any]:
        return {
            "organization": self.organization,
            "project_slug": self.project,
            "stack": self.stack,
            "sentry_url": self.sentry_url,
            "vault_mount": self.vault_mount,
            "vault_path": self.vault_path,
            "kv_version": self.kv_version,
            "on_delete": self.on_delete,
            "select_key_id": self.select_key_id,
            "select_key_label": self.select_key_label,
        }


class ProjectDsnProvider(ResourceProvider):
    """Holds no state of its own: dill pickles it by reference, small and identical every run."""

    # It captures no secret, so its serialized form need not be encrypted in state.
    serialize_as_secret_always = False

    def configure(self, req: ConfigureRequest) -> None:
        runtime.configure(req.config._props)

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        inputs = {key: value for key, value in news.items() if key != "__provider"}
        try:
            inputs.update(_published_values(inputs))
            inputs["vault_drift"] = _vault_drift(olds) if olds.get("dsn") else {}
        except SentryDsnSyncError as exc:
            return CheckResult(inputs, [CheckFailure("project_slug", str(exc))])
        return CheckResult(inputs, [])

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = [key for key in _compared_keys(olds, news) if olds.get(key) != news.get(key)]
        if news.get("vault_drift"):
            changed.append("vault_drift")
        replaces = [key for key in LOCATION_FIELDS if key in changed]
        return DiffResult(
            changes=bool(changed),
            replaces=replaces,
            stables=[key for key in LOCATION_FIELDS if key not in replaces],
            delete_before_replace=False,
        )

    def create(self, props: dict[str, Any]) -> CreateResult:
        _publish(props)
        return CreateResult(id_=f"{props['vault_mount']}/{props['vault_path']}", outs=_outputs(props))

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        _publish(news)
        return UpdateResult(outs=_outputs(news))

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        store = runtime.kv_store(stack=props["stack"], mount=props["vault_mount"], kv_version=props["kv_version"])
        store.remove(props["vault_path"], policy=_on_delete(props))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        store = runtime.kv_store(stack=props["stack"], mount=props["vault_mount"], kv_version=props["kv_version"])
        current = store.read(props["vault_path"])
        if current is None:
            # Gone from Vault: drop it from state; the next `up` creates it again.
            return ReadResult(id_=None, outs={})
        outs = dict(props)
        outs.update({field: current.data.get(field, MISSING) for field in PUBLISHED_FIELDS})
        outs["vault_drift"] = {}
        return ReadResult(id_=id_, outs=outs)


def _published_values(inputs: dict[str, Any]) -> dict[str, Any]:
    """Read Sentry and choose the key, as DESIGN's rule says."""
    stack = inputs["stack"]
    catalog = runtime.catalog(stack=stack)
    project = catalog.project(inputs["project_slug"])
    choice = choose_key(
        catalog.active_keys(project.slug),
        project=project.slug,
        key_id=inputs.get("select_key_id"),
        key_label=inputs.get("select_key_label"),
    )
    warning = choice.warning()
    if warning:
        pulumi.log.warn(warning)
    key = choice.key
    return {
        "dsn": key.public_dsn,
        "public_key": key.public_key,
        "project_id": str(project.id),
        "key_id": key.id,
        "key_label": key.label,
        "key_created": key.date_created.isoformat() if key.date_created else None,
    }


def _vault_drift(olds: dict[str, Any]) -> dict[str, str]:
    """The tool's fields that someone changed in Vault since the last publish, with their value there.

    Compared with the last published state, not with the new key: a rotation
    is shown by `dsn` itself, drift only by what changed behind the tool's back.
    """
    store = runtime.kv_store(stack=olds["stack"], mount=olds["vault_mount"], kv_version=olds["kv_version"])
    current = store.read(olds["vault_path"])
    data = current.data if current is not None else {}
    published = _vault_fields(olds)
    return {field: str(data.get(field, MISSING)) for field in PUBLISHED_FIELDS if data.get(field) != published[field]}


def _vault_fields(props: dict[str, Any]) -> dict[str, str]:
    return {field: str(props[field]) for field in PUBLISHED_FIELDS}


def _publish(props: dict[str, Any]) -> None:
    store = runtime.kv_store(stack=props["stack"], mount=props["vault_mount"], kv_version=props["kv_version"])
    store.publish(
        props["vault_path"],
        _vault_fields(props),
        custom_metadata={"managed-by": MANAGED_BY, "stack": props["stack"]},
    )


def _outputs(props: dict[str, Any]) -> dict[str, Any]:
    outs = {key: value for key, value in props.items() if key != "__provider"}
    # What was just written is what Vault holds: no drift left to show.
    outs["vault_drift"] = {}
    return outs


def _compared_keys(olds: dict[str, Any], news: dict[str, Any]) -> list[str]:
    ignored = {"__provider", "vault_drift"}
    return sorted((set(olds) | set(news)) - ignored)


def _on_delete(props: dict[str, Any]) -> str:
    """The policy of the current config when there is one, else the one in state."""
    try:
        return runtime.settings(stack=props["stack"]).vault.on_delete
    except SentryDsnSyncError:
        return str(props.get("on_delete", "delete"))


class ProjectDsn(Resource, module="sentry-dsn-sync", name="ProjectDsn"):
    """The published DSN of one Sentry project and where it lives in Vault."""

    dsn: pulumi.Output[str]
    public_key: pulumi.Output[str]
    project_id: pulumi.Output[str]
    project_slug: pulumi.Output[str]
    organization: pulumi.Output[str]
    key_id: pulumi.Output[str]
    key_label: pulumi.Output[str]
    key_created: pulumi.Output[str]
    vault_mount: pulumi.Output[str]
    vault_path: pulumi.Output[str]

    def __init__(self, name: str, args: ProjectDsnArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        outputs = dict.fromkeys(
            ("dsn", "public_key", "project_id", "key_id", "key_label", "key_created", "vault_drift")
        )
        super().__init__(ProjectDsnProvider(), name, {**args.to_inputs(), **outputs}, opts)
