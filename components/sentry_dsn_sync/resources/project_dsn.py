"""`ProjectDsn`: one Sentry project's active public DSN, published into Vault.

One resource per project does both halves (read Sentry, write Vault): a run
over hundreds of projects then costs the engine one resource per project, and
the value written to Vault is, by construction, the one the preview showed.

* `check` reads Sentry (through the per-process organization catalog) and puts
  the chosen key into the inputs, so `pulumi preview --diff` shows a rotation
  as `dsn: old => new` instead of an unknown. It also reads the Vault secret
  (read ahead for the whole run, see `read_ahead`) and records fields someone
  changed by hand in `vault_drift`, so drift shows up in a plain preview
  without `--refresh`. Opening the store checks the Vault mount, so a wrong
  `kvVersion` fails the preview of the very first run, and when a write is
  coming it checks the token may make it.
* `diff` replaces the resource only when the secret moves (mount or path);
  a `kvVersion` change keeps the location and is an update, so the new write
  is never followed by a delete of the same path.
* `create`/`update` write only the tool's fields, and only when they differ.
* `delete` applies the configured `onDelete` policy; a secret already gone is
  a success, and `retain` does not even contact Vault.
* `read` (refresh) reports what is really in Vault, as outputs and as inputs,
  so the next diff compares Sentry against Vault's real values.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, ParamSpec, TypeVar

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

from sentry_dsn_sync._redaction import redacted_url
from sentry_dsn_sync.config import ON_DELETE_CHOICES, OnDelete, provider_config
from sentry_dsn_sync.errors import (
    KeySelectionError,
    SentryDsnSyncError,
    SentryResponseError,
    VaultError,
    VaultMountError,
)
from sentry_dsn_sync.resources import _engine_log as engine_log
from sentry_dsn_sync.resources._provider_errors import report_expected_errors_without_traceback
from sentry_dsn_sync.resources.context import provider_context

if TYPE_CHECKING:
    from sentry_dsn_sync.sentry import OrganizationCatalog
    from sentry_dsn_sync.vault import KvStore

__all__ = [
    "MANAGED_BY",
    "PUBLISHED_FIELDS",
    "ProjectDsn",
    "ProjectDsnArgs",
    "ProjectDsnProvider",
    "connection_of",
    "form_field",
    "published_fields",
]

_log = logging.getLogger(__name__)
MANAGED_BY = "sentry-dsn-sync"
# The fields this tool owns in every Vault secret, plus one `dsn_<form>` field per
# DSN form the project publishes (`dsnForms`); everything else there is someone else's.
PUBLISHED_FIELDS = ("dsn", "public_key", "project_id", "project_slug", "organization", "key_id")
DSN_FORMS_INPUT = "dsn_forms"
# Inputs that decide where the secret lives: changing one moves the secret (a replace).
LOCATION_FIELDS = ("vault_mount", "vault_path")
# Inputs that say how to reach the secret but not where it is: a change is an in-place
# update. (A replace would create at the same path, then delete what it just wrote.)
ACCESS_FIELDS = ("kv_version",)
MISSING = "(missing)"
# The program sends its inputs as this one object, spread flat by `check`: each
# top-level property costs the program an Output (and a task it waits on) per
# resource, which at hundreds of projects is most of its time.
SPEC = "spec"
# The outputs the program reads back (the `projects` stack output).
READ_BY_PROGRAM = ("dsn", "project_id", "key_id", "key_label")
# What check learns from Sentry; kept as last published when Sentry's answer for the project is unusable.
FROM_SENTRY = ("dsn", "public_key", "project_id", "key_id", "key_label", "key_created")
# The input that carries a problem of this project alone from check to create/update.
SENTRY_PROBLEM = "sentry_problem"
# Inputs that outputs leave out: both follow from the chosen key, so a new key changes
# `key_id` and `dsn` anyway, and every byte of outputs is paid once per project. (`project_slug`
# stays: a `ProjectDsn` built by hand may keep its name while its project's slug changes.)
NOT_IN_OUTPUTS = ("public_key", "key_created")
VAULT_DRIFT = "vault_drift"
# The input saying how to reach Sentry and Vault when the program's settings are its own
# (see `Settings.connection`); absent when the provider reads them from the stack config.
CONNECTION = "connection"


@dataclass(frozen=True)
class ProjectDsnArgs:
    """What the program knows about one project before Sentry is read."""

    organization: str
    project: str
    stack: str
    vault_mount: str
    vault_path: str
    kv_version: int
    on_delete: str
    select_key_id: str | None = None
    select_key_label: str | None = None
    dsn_forms: tuple[str, ...] = ()
    connection: Mapping[str, Any] | None = None

    def to_inputs(self) -> dict[str, Any]:
        """The inputs as state and `pulumi preview --diff` show them; a key choice left unset is left out."""
        inputs: dict[str, Any] = {
            "organization": self.organization,
            "project_slug": self.project,
            "stack": self.stack,
            "vault_mount": self.vault_mount,
            "vault_path": self.vault_path,
            "kv_version": self.kv_version,
            "on_delete": self.on_delete,
        }
        if self.select_key_id is not None:
            inputs["select_key_id"] = self.select_key_id
        if self.select_key_label is not None:
            inputs["select_key_label"] = self.select_key_label
        if self.dsn_forms:
            # Left out when empty, so a stack that publishes no form keeps the inputs it always had.
            inputs[DSN_FORMS_INPUT] = list(self.dsn_forms)
        if self.connection is not None:
            inputs[CONNECTION] = dict(self.connection)
        return inputs


_P = ParamSpec("_P")
_R = TypeVar("_R")


def _log_delivered(method: Callable[_P, _R]) -> Callable[_P, _R]:
    """The engine has every record the call made before it has the call's answer (see `engine_log`)."""

    @functools.wraps(method)
    def delivered(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return method(*args, **kwargs)
        finally:
            engine_log.flush()

    return delivered


class ProjectDsnProvider(ResourceProvider):
    """Holds no state of its own: dill pickles it by reference, small and identical every run."""

    # Pickled by the package's own name, which holds it too: every resource's state
    # carries that reference twice (inputs and outputs), base64 encoded, so the
    # shorter path saves about 56 bytes a project. State that names this module still loads.
    __module__ = "sentry_dsn_sync"

    # It captures no secret, so its serialized form need not be encrypted in state.
    serialize_as_secret_always = False

    def configure(self, req: ConfigureRequest) -> None:
        # Runs once per provider process, before any create, update or delete.
        report_expected_errors_without_traceback()
        provider_context.configure(provider_config(req.config))

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        # Its records (a warning) are not waited for here: the engine waits for every check in
        # turn. The next call for this resource waits for them (diff, create); where none follows
        # (a preview of a new resource) they are on their way while the engine finishes.
        result = self._checked(olds, news)
        if result.failures:
            engine_log.flush()  # a failed check can end the run
        return result

    def _checked(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        inputs = _flat_inputs(news)
        try:
            # The Sentry client is built before the Vault read ahead starts: building
            # either is CPU work (imports, a TLS context) that the other would slow
            # down, and the first check waits for Sentry, not for Vault. Vault's
            # client is then built while Sentry's answers are on their way.
            connection = connection_of(inputs)
            catalog = provider_context.catalog(stack=inputs["stack"], connection=connection)
            if _compares_with_vault(olds, inputs):
                provider_context.start_read_ahead(
                    stack=inputs["stack"],
                    mount=inputs["vault_mount"],
                    kv_version=_kv_version(inputs),
                    connection=connection,
                )
            inputs.update(_published_values(catalog, inputs))
        except (KeySelectionError, SentryResponseError) as exc:
            # This project's own problem. A check failure would end the whole run; a failed
            # update fails this project alone, so `--continue-on-error` publishes the others.
            pulumi.log.error(str(exc))
            kept = (*FROM_SENTRY, *(form_field(form) for form in olds.get(DSN_FORMS_INPUT) or ()))
            inputs.update({key: olds[key] for key in kept if key in olds})
            inputs[SENTRY_PROBLEM] = str(exc)
            return CheckResult(inputs, [])
        except SentryDsnSyncError as exc:
            return CheckResult(inputs, [CheckFailure("project_slug", str(exc))])
        try:
            # Opening the store checks the mount and its KV version, even on a first run.
            store = _store(inputs)
            drift = _vault_drift(store, olds, inputs)
            if drift:
                # Absent when there is none: `{}` in every resource's state would cost bytes for nothing.
                inputs[VAULT_DRIFT] = drift
            if _will_write(olds, inputs):
                provider_context.require_write_access(
                    store,
                    inputs["vault_path"],
                    exists=bool(olds.get("dsn")),
                    stack=inputs["stack"],
                    mount=inputs["vault_mount"],
                    kv_version=_kv_version(inputs),
                    connection=connection,
                )
        except VaultError as exc:
            return CheckResult(inputs, [CheckFailure(_vault_property(exc), str(exc))])
        return CheckResult(inputs, [])

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        # For an unchanged resource this is the last call: its check's warnings must be in by now.
        engine_log.flush()
        changed = [key for key in _compared_keys(olds, news) if olds.get(key) != news.get(key)]
        if news.get(VAULT_DRIFT):
            changed.append(VAULT_DRIFT)
        replaces = [key for key in LOCATION_FIELDS if key in changed]
        return DiffResult(
            changes=bool(changed),
            replaces=replaces,
            stables=[key for key in (*LOCATION_FIELDS, *ACCESS_FIELDS) if key not in changed],
            # Publish at the new location first: if that fails, the old secret is still there.
            delete_before_replace=False,
        )

    @_log_delivered
    def create(self, props: dict[str, Any]) -> CreateResult:
        _refuse_sentry_problem(props)
        # Nothing was published here by this resource: a fresh path is written without reading it first.
        _publish(props, expect_new=True)
        return CreateResult(id_=f"{props['vault_mount']}/{props['vault_path']}", outs=_outputs(props))

    @_log_delivered
    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        _refuse_sentry_problem(news)
        # A form no longer chosen leaves the secret: only its own field, and only one this tool wrote.
        dropped = [field for field in published_fields(olds) if field not in published_fields(news)]
        _publish(news, remove=dropped)
        return UpdateResult(outs=_outputs(news))

    @_log_delivered
    def delete(self, _id: str, props: dict[str, Any]) -> None:
        policy = _on_delete(props)
        if policy == "retain":
            return  # nothing to do in Vault, so an unreachable Vault must not block it
        _store(props).remove(props["vault_path"], policy=policy)

    @_log_delivered
    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        current = _store(props).read(props["vault_path"])
        if current is None:
            # Gone from Vault: drop it from state; the next `up` creates it again.
            return ReadResult(id_=None, outs={})
        # State now says what Vault holds, so there is no drift left between the two.
        outs = {key: value for key, value in props.items() if key not in ("__provider", VAULT_DRIFT)}
        # Every field Vault holds, `public_key` and `project_slug` too: the next diff must
        # compare them, so that an `up` restores one that was edited by hand.
        outs.update({field: redacted_url(str(current.data.get(field, MISSING))) for field in published_fields(props)})
        # Inputs too: the next check measures drift against them, and the next
        # diff then shows a hand edit as `dsn: <in Vault> => <from Sentry>`.
        return ReadResult(id_=id_, outs=outs, inputs=dict(outs))


def _flat_inputs(news: dict[str, Any]) -> dict[str, Any]:
    """The program's inputs with its `spec` object spread out (flat inputs are taken as they are)."""
    inputs = {key: value for key, value in news.items() if key not in ("__provider", SPEC)}
    inputs.update(news.get(SPEC) or {})
    return inputs


def _published_values(catalog: OrganizationCatalog, inputs: dict[str, Any]) -> dict[str, Any]:
    """Read Sentry and choose the key, as DESIGN's rule says."""
    # Imported here: the program imports this module but never reads Sentry (see context).
    from sentry_dsn_sync.sentry import check_public_dsn, choose_key

    project = catalog.project(inputs["project_slug"])
    choice = choose_key(
        catalog.active_keys(project.slug),
        project=project.slug,
        key_id=inputs.get("select_key_id"),
        key_label=inputs.get("select_key_label"),
    )
    warning = choice.warning()
    if warning:
        _log.warning(warning)
    key = choice.key
    check_public_dsn(
        key.public_dsn, key_id=key.id, public_key=key.public_key, project_id=project.id, project=project.slug
    )
    values: dict[str, Any] = {
        "dsn": key.public_dsn,
        "public_key": key.public_key,
        "project_id": str(project.id),
        "key_id": key.id,
        "key_label": key.label,
        "key_created": key.date_created.isoformat() if key.date_created else None,
    }
    for form in inputs.get(DSN_FORMS_INPUT) or ():
        url = key.form(form)
        if url is None:
            raise KeySelectionError(
                f"project '{project.slug}': Sentry sent no '{form}' DSN form for key {key.id} (older "
                f"Sentry releases lack some forms); remove '{form}' from `dsnForms` for this project"
            )
        values[form_field(form)] = url
    return values


def _vault_drift(store: KvStore, olds: dict[str, Any], news: dict[str, Any]) -> dict[str, str]:
    """The tool's fields that someone changed in Vault since the last publish, with their value there.

    Compared with the last published state, not with the new key: a rotation
    is shown by `dsn` itself, drift only by what changed behind the tool's back.
    """
    if not _compares_with_vault(olds, news):
        return {}  # nothing published here yet: create or replace writes every field anyway
    current = provider_context.read_secret(store, news["vault_path"])
    data = current.data if current is not None else {}
    published = _vault_fields(olds)
    # Compared as shown, so that state written by `read` (which records a missing
    # field as MISSING) is not mistaken for drift.
    in_vault = {field: redacted_url(str(data.get(field, MISSING))) for field in published}
    return {field: value for field, value in in_vault.items() if value != published[field]}


def _compares_with_vault(olds: dict[str, Any], news: dict[str, Any]) -> bool:
    """Whether check reads the secret for drift: it was published here by an earlier `up`."""
    return bool(olds.get("dsn")) and not _moved(olds, news)


def _will_write(olds: dict[str, Any], news: dict[str, Any]) -> bool:
    """Whether `up` is going to write this secret, so that preview checks it may."""
    if not _compares_with_vault(olds, news) or news.get("vault_drift"):
        return True
    fields = {*published_fields(olds), *published_fields(news)}
    return any(olds.get(key) != news.get(key) for key in fields)


def _moved(olds: dict[str, Any], news: dict[str, Any]) -> bool:
    """Whether the secret's location (mount or path) changes, which makes the update a replace."""
    return any(olds.get(key) != news.get(key) for key in LOCATION_FIELDS)


def _vault_property(exc: VaultError) -> str:
    """The input a Vault error is about, so the engine points at it."""
    return "vault_mount" if isinstance(exc, VaultMountError) else "vault_path"


def _store(props: dict[str, Any]) -> KvStore:
    return provider_context.kv_store(
        mount=props["vault_mount"], kv_version=_kv_version(props), connection=connection_of(props)
    )


def connection_of(props: Mapping[str, Any]) -> dict[str, Any] | None:
    """Where a resource's Sentry and Vault are: its `connection` input, or None for the stack config's.

    The program names its plan for the provider the same way (see `invocation_cache`).
    """
    connection = props.get(CONNECTION)
    if connection is None:
        return None  # settings from `load_settings`, or state written before connections existed
    return {**connection, "organization": props["organization"]}


def _kv_version(props: dict[str, Any]) -> Literal[1, 2]:
    # Config parsing allows only 1 and 2; state written by this tool holds nothing else.
    return 1 if int(props["kv_version"]) == 1 else 2


def form_field(form: str) -> str:
    """The Vault field (and input) of one DSN form: `csp` -> `dsn_csp`."""
    return f"dsn_{form}"


def published_fields(props: dict[str, Any]) -> tuple[str, ...]:
    """The fields this resource owns in its secret: the fixed ones and those of its DSN forms."""
    return (*PUBLISHED_FIELDS, *(form_field(form) for form in props.get(DSN_FORMS_INPUT) or ()))


def _vault_fields(props: dict[str, Any]) -> dict[str, str]:
    return {field: str(props[field]) for field in published_fields(props)}


def _refuse_sentry_problem(props: dict[str, Any]) -> None:
    """Fail this project's step with the problem check found; nothing is written."""
    problem = props.get(SENTRY_PROBLEM)
    if problem:
        raise SentryDsnSyncError(str(problem))


def _publish(props: dict[str, Any], *, remove: list[str] | None = None, expect_new: bool = False) -> None:
    result = _store(props).publish(
        props["vault_path"],
        _vault_fields(props),
        custom_metadata={"managed-by": MANAGED_BY, "stack": props["stack"]},
        remove=remove or (),
        expect_new=expect_new,
    )
    # One line per publish: at a first run over thousands of projects each line is a call to the engine.
    outcome = "nothing written, already current" if not result.written else (
        "written" if result.version is None else f"version {result.version} written")
    _log.debug("published %s's DSN (key %s) at %s/%s: %s", props["project_slug"], props["key_id"],
               props["vault_mount"], props["vault_path"], outcome)


def _outputs(props: dict[str, Any]) -> dict[str, Any]:
    """What diff, update, delete, read and the program need: the inputs less those derived from the key.

    No `vault_drift` either: what was just written is what Vault holds.
    """
    left_out = {"__provider", VAULT_DRIFT, *NOT_IN_OUTPUTS}
    return {key: value for key, value in props.items() if key not in left_out}


def _compared_keys(olds: dict[str, Any], news: dict[str, Any]) -> list[str]:
    """Every input on either side, less a derived one the old outputs leave out (`NOT_IN_OUTPUTS`).

    Outputs written by older releases still hold the derived fields, and are compared on them.
    """
    ignored = {"__provider", VAULT_DRIFT, *(key for key in NOT_IN_OUTPUTS if key not in olds)}
    return sorted((set(olds) | set(news)) - ignored)


def _on_delete(props: dict[str, Any]) -> OnDelete:
    """The policy of the current config when there is one, else the one in state.

    The current config wins so that a user who sets `onDelete: retain` in the
    same change that removes a project gets what they just asked for. `pulumi
    destroy` does not run the program, so there the engine hands the provider
    the config of the last `up`: a policy change needs an `up` before it.
    A resource with its own `connection` has no stack config of its own: the
    policy its program last gave, as recorded in state, applies.
    """
    if props.get(CONNECTION) is not None:
        recorded = props.get("on_delete")
        return recorded if recorded in ON_DELETE_CHOICES else "delete"
    try:
        return provider_context.vault_settings().on_delete
    except SentryDsnSyncError:
        recorded = props.get("on_delete")
        return recorded if recorded in ON_DELETE_CHOICES else "delete"


class ProjectDsn(Resource, module="sentry-dsn-sync", name="ProjectDsn"):
    """The published DSN of one Sentry project and where it lives in Vault.

    Its inputs in state also hold `public_key`, `key_created`, `vault_drift`
    (only when there is drift) and the others, for `pulumi preview --diff`
    and `pulumi stack export`; its outputs leave out what follows from the
    chosen key (see `NOT_IN_OUTPUTS`). Only
    the outputs the component reads are declared here, and the inputs travel
    as one `spec` object, because every top-level property is one more value
    the program sends and resolves per project.
    """

    # For type checkers only: the SDK sets these from `props` below, and would
    # otherwise evaluate these annotations again for every resource it resolves.
    if TYPE_CHECKING:
        dsn: pulumi.Output[str]
        project_id: pulumi.Output[str]
        key_id: pulumi.Output[str]
        key_label: pulumi.Output[str]

    def __init__(self, name: str, args: ProjectDsnArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        # Each chosen DSN form is read back too, as the output named after its Vault field.
        read_back = (*READ_BY_PROGRAM, *(form_field(form) for form in args.dsn_forms))
        props = {SPEC: args.to_inputs(), **dict.fromkeys(read_back)}
        super().__init__(ProjectDsnProvider(), name, props, opts)
