"""`SentryDsnSync`: the reusable component that publishes a set of Sentry projects' DSNs.

A team adds it to an existing Pulumi program in a few lines::

    from sentry_dsn_sync import SentryDsnSync, SentryDsnSyncArgs, load_settings

    sync = SentryDsnSync("sentry-dsns", SentryDsnSyncArgs(settings=load_settings()))
    pulumi.export("dsns", sync.dsns)

or, in an async program, `sync = await SentryDsnSync.create_async(...)`, as
this project's own `__main__.py` does.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import pulumi

from sentry_dsn_sync.config import ProjectSpec, Settings
from sentry_dsn_sync.errors import ConfigError
from sentry_dsn_sync.resources.invocation_cache import add_to_plan
from sentry_dsn_sync.resources.project_dsn import ProjectDsn, ProjectDsnArgs, connection_of, form_field

__all__ = ["SentryDsnSync", "SentryDsnSyncArgs"]


@dataclass(frozen=True)
class SentryDsnSyncArgs:
    settings: Settings
    # The projects of `settings.team`; looked up in Sentry when not given (tests pass them).
    team_projects: tuple[str, ...] | None = None


class SentryDsnSync(pulumi.ComponentResource):
    """One `ProjectDsn` child per project, and the `dsns`/`projects` maps other stacks read.

    Build it with the constructor in a plain program, or with
    :meth:`create_async` in an async one (`pulumi.run`), which hands the
    engine each project as soon as it is built.
    """

    dsns: pulumi.Output[dict[str, str]]
    projects: pulumi.Output[dict[str, dict[str, Any]]]

    def __init__(self, name: str, args: SentryDsnSyncArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        self._register(name, args, opts)
        self._register_children()
        self._summarise()

    @classmethod
    async def create_async(
        cls, name: str, args: SentryDsnSyncArgs, opts: pulumi.ResourceOptions | None = None
    ) -> SentryDsnSync:
        """The same component, with the engine at work on the first project while the program builds the rest.

        A Python program's event loop does not run while the program's own
        code does, so children built in one go reach the engine together,
        only when that code returns: the engine then starts the provider,
        reads Sentry and checks every project, while the program waits.
        Handing the loop a turn after each child sends its registration at
        once, so that this work overlaps with building the rest. At 500
        projects it is the largest single cut of a no-op `up` (bench/RESULTS.md).

        Each child is built in a callback of the event loop, which is that
        turn: the engine records in state the program's stack at each
        registration, and from a callback that stack starts at the loop,
        five frames (about 450 bytes a project) shorter than from here
        (this coroutine, the program's `main` and `pulumi.run`'s own three).
        """
        component = cls.__new__(cls)
        component._register(name, args, opts)
        loop = asyncio.get_running_loop()
        for project_args in component._project_args:
            built: asyncio.Future[ProjectDsn] = loop.create_future()
            loop.call_soon(component._register_child_into, project_args, built)
            await built
        component._summarise()
        return component

    def _register(self, name: str, args: SentryDsnSyncArgs, opts: pulumi.ResourceOptions | None) -> None:
        super().__init__("sentry-dsn-sync:index:SentryDsnSync", name, None, opts)
        settings = args.settings
        _refuse_literal_credentials(settings)
        stack = pulumi.get_stack()
        self._project_args = [
            _project_args(settings, spec, stack) for spec in settings.all_projects(_team_project_slugs(args))
        ]
        connection = connection_of(self._project_args[0].to_inputs()) if self._project_args else None
        if connection is not None:
            # The provider knows the stack config's projects; these only from this plan.
            add_to_plan(
                connection,
                mount=settings.vault.mount,
                kv_version=settings.vault.kv_version,
                paths=[project.vault_path for project in self._project_args],
            )
        self._children: list[ProjectDsn] = []

    def _register_children(self) -> None:
        for project_args in self._project_args:
            self._children.append(ProjectDsn(project_args.project, project_args, pulumi.ResourceOptions(parent=self)))

    def _register_child_into(self, project_args: ProjectDsnArgs, built: asyncio.Future[ProjectDsn]) -> None:
        """One child, built in an event loop callback; its error, if any, is handed to `built` whole.

        It builds the child itself, not through a helper: every call between
        the loop and `ProjectDsn` is one more frame recorded in state.
        """
        try:
            child = ProjectDsn(project_args.project, project_args, pulumi.ResourceOptions(parent=self))
        except Exception as exc:
            built.set_exception(exc)
            return
        self._children.append(child)
        built.set_result(child)

    def _summarise(self) -> None:
        self.projects = _summaries(self._project_args, self._children)
        self.dsns = self.projects.apply(lambda projects: {slug: p["dsn"] for slug, p in projects.items()})
        # Not repeated as the component's own outputs: the stack exports them, and a
        # second copy in state would cost about 400 bytes per project.
        self.register_outputs({})


def _team_project_slugs(args: SentryDsnSyncArgs) -> tuple[str, ...]:
    settings = args.settings
    if settings.team is None:
        return ()
    if args.team_projects is not None:
        return args.team_projects
    # Imported only here: a stack without `team` never reads Sentry from the program.
    from sentry_dsn_sync.resources.context import announce_wait, organization_catalog

    # Shared with the provider processes of this `pulumi up`, which read the same organization.
    catalog = organization_catalog(settings, announce=announce_wait)
    try:
        return tuple(project.slug for project in catalog.team_projects(settings.team))
    finally:
        catalog.api.client.close()


def _project_args(settings: Settings, spec: ProjectSpec, stack: str) -> ProjectDsnArgs:
    vault = settings.vault
    path = settings.vault_path(spec, stack=stack)
    return ProjectDsnArgs(
        organization=settings.organization,
        project=spec.slug,
        stack=stack,
        vault_mount=vault.mount,
        vault_path=path,
        kv_version=vault.kv_version,
        on_delete=vault.on_delete,
        select_key_id=spec.key_id,
        select_key_label=spec.key_label,
        dsn_forms=settings.dsn_forms_for(spec),
        connection=settings.connection,
    )


def _refuse_literal_credentials(settings: Settings) -> None:
    """A credential given to `parse_settings` as a value could reach the provider only through state."""
    if settings.connection is None or not settings.literal_credentials:
        return  # settings of the stack config: the provider reads its secrets itself
    names = ", ".join(settings.literal_credentials)
    raise ConfigError(
        f"{names}: given to parse_settings as a value, which the provider process could only get through "
        "the stack's state; leave it out and name where the provider reads it instead: `sentryTokenEnv` "
        "(Sentry), `vault.auth.tokenEnv`, `secretIdEnv`, `jwtEnv` or `passwordEnv` (Vault) naming an "
        "environment variable, "
        "or use load_settings() with the credential in the stack config as a secret"
    )


def _summaries(
    project_args: list[ProjectDsnArgs], children: list[ProjectDsn]
) -> pulumi.Output[dict[str, dict[str, Any]]]:
    """`{slug: {projectId, keyId, keyLabel, dsn, vaultPath, dsnForms?}}`, resolved in one step.

    One output over every child's values (four, plus one per DSN form it
    publishes), instead of one or two per project plus a concatenation.
    `vaultPath` is known before the engine answers.
    """
    values = _all_of(
        [
            output
            for child, args in zip(children, project_args)
            for output in (
                child.project_id,
                child.key_id,
                child.key_label,
                child.dsn,
                *(getattr(child, form_field(form)) for form in args.dsn_forms),
            )
        ]
    )

    def shape(resolved: list[str]) -> dict[str, dict[str, Any]]:
        summaries: dict[str, dict[str, Any]] = {}
        at = 0
        for args in project_args:
            project_id, key_id, key_label, dsn = resolved[at : at + 4]
            forms = resolved[at + 4 : at + 4 + len(args.dsn_forms)]
            at += 4 + len(args.dsn_forms)
            summary: dict[str, Any] = {
                "projectId": project_id,
                "keyId": key_id,
                "keyLabel": key_label,
                "dsn": dsn,
                "vaultPath": f"{args.vault_mount}/{args.vault_path}",
            }
            if args.dsn_forms:
                summary["dsnForms"] = dict(zip(args.dsn_forms, forms))
            summaries[args.project] = summary
        return summaries

    return values.apply(shape)


def _all_of(outputs: list[pulumi.Output[Any]]) -> pulumi.Output[list[Any]]:
    """`Output.all(*outputs)`, at a fraction of its cost for thousands of outputs.

    `Output.all` first wraps each output in an `apply`, which costs a new
    Output, a task and a walk of the value each: at thousands of projects the
    largest part of what the program spends beyond registering them. This
    awaits the outputs in turn instead. As with `Output.all`, the result is
    unknown if one of them is, secret if one of them is, depends on every
    resource behind them, and fails if one of them fails.
    """

    resources: asyncio.Future[set[pulumi.Resource]] = asyncio.Future()
    values: asyncio.Future[list[Any]] = asyncio.Future()
    known: asyncio.Future[bool] = asyncio.Future()
    secret: asyncio.Future[bool] = asyncio.Future()
    parts = (resources, values, known, secret)

    async def collect() -> None:
        depends_on: set[pulumi.Resource] = set()
        collected: list[Any] = []
        all_known, any_secret = True, False
        try:
            for output in outputs:
                collected.append(await output.future(with_unknowns=True))
                depends_on |= await output.resources()
                all_known = await output.is_known() and all_known
                any_secret = await output.is_secret() or any_secret
        except asyncio.CancelledError:
            for part in parts:
                part.cancel()
            raise
        except Exception as exc:  # noqa: BLE001 - handed on whole, as Output.all would
            for part in parts:
                part.set_exception(exc)
                # Whichever part the SDK awaits raises it; the others must not be logged as never retrieved.
                part.exception()
            return
        resources.set_result(depends_on)
        values.set_result(collected)
        known.set_result(all_known)
        secret.set_result(any_secret)

    # Started here, so that the Output's parts resolve in whatever order the SDK awaits them.
    asyncio.ensure_future(collect())
    return pulumi.Output(resources, values, known, secret)
