"""The SentryDsnSync component under Pulumi's mocks: children, their inputs, and the outputs it exports."""

from __future__ import annotations

import asyncio
import gc
import json
import tempfile
import traceback
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pulumi
import pytest

from sentry_dsn_sync import ProjectDsn, SentryDsnSync, SentryDsnSyncArgs, parse_settings
from sentry_dsn_sync import sync as sync_module
from sentry_dsn_sync.config import Settings
from sentry_dsn_sync.errors import ConfigError
from sentry_dsn_sync.resources import invocation_cache
from sentry_dsn_sync.resources.invocation_cache import planned_paths
from sentry_dsn_sync.resources.project_dsn import connection_of

ENV = {"SENTRY_AUTH_TOKEN": "unit-token", "VAULT_ADDR": "http://127.0.0.1:8200"}


class RecordingMocks(pulumi.runtime.Mocks):
    """Answers each ProjectDsn as its provider's `check` would have, and records what was registered."""

    def __init__(self) -> None:
        self.resources: list[pulumi.runtime.MockResourceArgs] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        self.resources.append(args)
        outputs = dict(args.inputs)
        if args.typ.endswith(":ProjectDsn"):
            # The program sends one `spec` object; check spreads it into flat inputs.
            outputs = dict(program_spec(args))
            slug = outputs["project_slug"]
            outputs.update(
                dsn=f"https://{slug}key@o1.ingest.example/{len(slug)}",
                project_id=str(len(slug)),
                key_id=f"{slug}-key",
                key_label="Default",
            )
        return f"{args.name}-id", outputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        return {}, None


def program_spec(resource: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
    assert set(resource.inputs) - {"__provider"} == {"spec"}, "the program sends its inputs as one object"
    spec: dict[str, Any] = resource.inputs["spec"]
    return spec


@pytest.fixture
def mocks() -> Iterator[RecordingMocks]:
    mocks = RecordingMocks()
    pulumi.runtime.set_mocks(mocks, project="sentry-dsn-sync", stack="unit", preview=False)
    yield mocks
    # Leave no mocked engine or root stack behind for the next test.
    pulumi.runtime.settings.reset_options()


def settings(**values: Any) -> Settings:
    return parse_settings({"organization": "acme", **values}, ENV, stack="unit")




@pulumi.runtime.test
def test_one_child_per_project_parented_to_the_component(mocks: RecordingMocks) -> pulumi.Output[Any]:
    sync = SentryDsnSync("dsns", SentryDsnSyncArgs(settings=settings(projects=["web", "api"])))

    def check(dsns: dict[str, str]) -> None:
        children = [r for r in mocks.resources if r.typ.endswith(":ProjectDsn")]
        assert sorted(child.name for child in children) == ["api", "web"]
        component = next(r for r in mocks.resources if r.typ == "sentry-dsn-sync:index:SentryDsnSync")
        assert component.name == "dsns"
        assert all(child.custom is True for child in children)
        assert dsns == {"web": "https://webkey@o1.ingest.example/3", "api": "https://apikey@o1.ingest.example/3"}

    return sync.dsns.apply(check)


@pulumi.runtime.test
def test_children_carry_the_vault_location_and_key_choice(mocks: RecordingMocks) -> pulumi.Output[Any]:
    config = settings(
        projects=["web", {"slug": "api", "keyLabel": "Rotation", "path": "custom/api"}],
        vault={"mount": "kv", "kvVersion": 1, "pathTemplate": "{stack}/sentry/{project}", "onDelete": "retain"},
    )
    sync = SentryDsnSync("dsns", SentryDsnSyncArgs(settings=config))

    def check(_: Any) -> None:
        inputs = {r.name: program_spec(r) for r in mocks.resources if r.typ.endswith(":ProjectDsn")}
        assert inputs["web"]["vault_path"] == "unit/sentry/web"
        assert inputs["api"]["vault_path"] == "custom/api"
        assert inputs["api"]["select_key_label"] == "Rotation"
        assert inputs["web"]["vault_mount"] == "kv"
        assert inputs["web"]["kv_version"] == 1
        assert inputs["web"]["on_delete"] == "retain"
        assert inputs["web"]["organization"] == "acme"
        assert "select_key_label" not in inputs["web"], "an unset key choice is left out"
        for child in inputs.values():
            assert "unit-token" not in repr(child), "no credential reaches a resource input"

    return sync.projects.apply(check)


@pulumi.runtime.test
def test_projects_output_summarises_each_project(mocks: RecordingMocks) -> pulumi.Output[Any]:
    sync = SentryDsnSync("dsns", SentryDsnSyncArgs(settings=settings(projects=["web"])))

    def check(projects: dict[str, dict[str, str]]) -> None:
        assert projects == {
            "web": {
                "projectId": "3",
                "keyId": "web-key",
                "keyLabel": "Default",
                "dsn": "https://webkey@o1.ingest.example/3",
                "vaultPath": "secret/sentry/acme/web",
            }
        }

    return sync.projects.apply(check)


@pulumi.runtime.test
def test_team_projects_join_the_configured_ones_once(mocks: RecordingMocks) -> pulumi.Output[Any]:
    config = settings(team="web-team", projects=[{"slug": "web", "keyLabel": "Main"}])
    sync = SentryDsnSync("dsns", SentryDsnSyncArgs(settings=config, team_projects=("web", "checkout")))

    def check(dsns: dict[str, str]) -> None:
        assert sorted(dsns) == ["checkout", "web"]
        web = next(r for r in mocks.resources if r.name == "web")
        assert program_spec(web)["select_key_label"] == "Main", "the configured entry wins over the discovered one"

    return sync.dsns.apply(check)


@pulumi.runtime.test
async def test_create_async_builds_the_same_component(mocks: RecordingMocks) -> pulumi.Output[Any]:
    sync = await SentryDsnSync.create_async("dsns", SentryDsnSyncArgs(settings=settings(projects=["web", "api"])))

    def check(values: list[Any]) -> None:
        dsns, projects = values
        children = [r for r in mocks.resources if r.typ.endswith(":ProjectDsn")]
        assert sorted(child.name for child in children) == ["api", "web"]
        component = next(r for r in mocks.resources if r.typ == "sentry-dsn-sync:index:SentryDsnSync")
        assert component.name == "dsns"
        assert dsns == {"web": "https://webkey@o1.ingest.example/3", "api": "https://apikey@o1.ingest.example/3"}
        assert projects["api"]["vaultPath"] == "secret/sentry/acme/api"

    return pulumi.Output.all(sync.dsns, sync.projects).apply(check)


class CountingProjectDsn(ProjectDsn):
    """A ProjectDsn that counts how many were built, so a test can watch the count between loop turns."""

    built = 0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        type(self).built += 1
        super().__init__(*args, **kwargs)


async def counts_seen_by_the_loop(build: Callable[[], Awaitable[Any]]) -> list[int]:
    """The number of children built, as seen by another task each time the loop gets a turn."""
    seen: list[int] = []
    finished = False

    async def watch() -> None:
        while not finished:
            seen.append(CountingProjectDsn.built)
            await asyncio.sleep(0)

    watcher = asyncio.ensure_future(watch())
    await asyncio.sleep(0)
    await build()
    finished = True
    await watcher
    return seen


@pytest.fixture
def counting_children(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sync_module, "ProjectDsn", CountingProjectDsn)
    monkeypatch.setattr(CountingProjectDsn, "built", 0)


def five_projects() -> SentryDsnSyncArgs:
    return SentryDsnSyncArgs(settings=settings(projects=[f"p{index}" for index in range(5)]))


@pulumi.runtime.test
async def test_create_async_gives_the_loop_a_turn_after_each_child(mocks: RecordingMocks, counting_children: None) -> None:
    async def build() -> None:
        await SentryDsnSync.create_async("streamed", five_projects())

    seen = await counts_seen_by_the_loop(build)
    # Each child's registration can go out while the next one is built.
    assert {1, 2, 3, 4, 5} <= set(seen)


class FailingProjectDsn(CountingProjectDsn):
    """Fails to build the third project, as a ProjectDsn given bad options would."""

    def __init__(self, name: str, *args: Any, **kwargs: Any) -> None:
        if name == "p2":
            raise ConfigError("p2: refused by the test")
        super().__init__(name, *args, **kwargs)


@pulumi.runtime.test
async def test_create_async_registers_in_order_from_the_loop_and_raises_a_childs_error(
    mocks: RecordingMocks, monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[str] = []
    stacks: list[list[str]] = []

    class StackRecordingProjectDsn(CountingProjectDsn):
        def __init__(self, name: str, *args: Any, **kwargs: Any) -> None:
            built.append(name)
            stacks.append([frame.name for frame in traceback.extract_stack()])
            super().__init__(name, *args, **kwargs)

    monkeypatch.setattr(sync_module, "ProjectDsn", StackRecordingProjectDsn)
    await SentryDsnSync.create_async("streamed", five_projects())
    assert built == [f"p{index}" for index in range(5)], "built in the order of the projects"
    # Built from a callback of the loop: the stack the engine records in state holds no
    # frame of the program's coroutines (this test, create_async).
    assert all(names[-3:-1] == ["_run", "_register_child_into"] for names in stacks), stacks
    assert not any("create_async" in names for names in stacks)

    monkeypatch.setattr(sync_module, "ProjectDsn", FailingProjectDsn)
    monkeypatch.setattr(FailingProjectDsn, "built", 0)
    with pytest.raises(ConfigError, match="p2: refused by the test"):
        await SentryDsnSync.create_async("failing", five_projects())
    assert FailingProjectDsn.built == 2, "no project after the one that failed is built"


@pulumi.runtime.test
async def test_the_constructor_builds_every_child_before_the_loop_runs(
    mocks: RecordingMocks, counting_children: None
) -> None:
    async def build() -> None:
        SentryDsnSync("at-once", five_projects())

    seen = await counts_seen_by_the_loop(build)
    # The contrast that makes the test above meaningful: no turn between children.
    assert not {1, 2, 3, 4} & set(seen)


@pulumi.runtime.test
def test_settings_built_by_the_program_reach_each_resource_as_its_connection(mocks: RecordingMocks) -> pulumi.Output[Any]:
    eu = parse_settings(
        {
            "organization": "acme-eu",
            "sentryUrl": "https://de.sentry.io/",
            "sentryTokenEnv": "EU_TOKEN",
            "projects": ["web"],
            "vault": {"address": "http://eu:8200", "auth": {"tokenEnv": "EU_VAULT"}},
        },
        {**ENV, "EU_TOKEN": "eu-token-value"},
        stack="unit",
    )
    sync = SentryDsnSync("eu", SentryDsnSyncArgs(settings=eu))

    def check(_: Any) -> None:
        (child,) = [r for r in mocks.resources if r.typ.endswith(":ProjectDsn")]
        spec = program_spec(child)
        assert spec["organization"] == "acme-eu"
        assert spec["connection"] == {
            "sentryUrl": "https://de.sentry.io/",
            "sentryTokenEnv": "EU_TOKEN",
            "vault": {"address": "http://eu:8200", "auth": {"tokenEnv": "EU_VAULT"}},
        }
        assert "eu-token-value" not in repr(child.inputs)

    return sync.dsns.apply(check)


@pulumi.runtime.test
def test_a_program_with_its_own_settings_plans_its_secrets_where_the_provider_looks_for_them(
    mocks: RecordingMocks, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> pulumi.Output[Any]:
    monkeypatch.setattr(invocation_cache, "pulumi_invocation_id", lambda: "100-8000")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    eu = parse_settings(
        {"organization": "acme-eu", "projects": ["web", {"slug": "ios", "path": "mobile/ios"}],
         "vault": {"address": "http://eu:8200", "mount": "apps", "auth": {"tokenEnv": "EU_VAULT"}}},
        ENV,
        stack="unit",
    )
    sync = SentryDsnSync("eu", SentryDsnSyncArgs(settings=eu))

    def check(_: Any) -> None:
        specs = [program_spec(r) for r in mocks.resources if r.typ.endswith(":ProjectDsn")]
        # Each resource's connection as its provider names it, from the inputs the engine hands it.
        (connection,) = {json.dumps(connection_of(spec), sort_keys=True) for spec in specs}
        planned = planned_paths(json.loads(connection), mount="apps", kv_version=2)
        assert planned == ["sentry/acme-eu/web", "mobile/ios"]  # in the program's order
        # The mocks record registrations as their threads get to them, in any order.
        assert sorted(spec["vault_path"] for spec in specs) == sorted(planned)

    return sync.dsns.apply(check)


def test_a_credential_given_to_parse_settings_as_a_value_is_refused_with_what_to_use(mocks: RecordingMocks) -> None:
    literal = parse_settings(
        {"organization": "acme", "projects": ["web"], "sentryToken": "literal-token"},
        ENV,
        stack="unit",
        secret_keys=("sentryToken",),
    )

    with pytest.raises(ConfigError, match=r"sentryToken: given to parse_settings as a value.*sentryTokenEnv") as caught:
        SentryDsnSync("literal", SentryDsnSyncArgs(settings=literal))

    assert "literal-token" not in str(caught.value)


def resolved_output(value: Any, *, known: bool = True, secret: bool = False, resources: set[Any] | None = None) -> pulumi.Output[Any]:
    async def just(result: Any) -> Any:
        return result

    return pulumi.Output(resources or set(), just(value), just(known), just(secret))


def failed_output(error: Exception) -> pulumi.Output[Any]:
    failed: asyncio.Future[Any] = asyncio.Future()
    failed.set_exception(error)
    known: asyncio.Future[bool] = asyncio.Future()
    known.set_result(True)
    return pulumi.Output(set(), failed, known)


async def everything_about(output: pulumi.Output[Any]) -> tuple[Any, bool, bool, set[Any]]:
    """Value (only when known: an unknown output's value is never shown), known, secret, resources."""
    known = await output.is_known()
    value = await output.future() if known else None
    return value, known, await output.is_secret(), await output.resources()


@pulumi.runtime.test
async def test_all_of_says_what_output_all_says(mocks: RecordingMocks) -> None:
    config = settings(projects=["web", "api"])
    web, api = (ProjectDsn(spec.slug, sync_module._project_args(config, spec, "unit")) for spec in config.projects)
    cases = {
        "known": lambda: [resolved_output("a"), resolved_output("b", resources={web}), resolved_output(3, resources={api})],
        "one unknown": lambda: [resolved_output("a"), resolved_output(None, known=False, resources={api})],
        "one secret": lambda: [resolved_output("a", secret=True), resolved_output("b", resources={web})],
        "none": lambda: [],
    }
    for name, outputs in cases.items():
        ours = await everything_about(sync_module._all_of(outputs()))
        sdk = await everything_about(pulumi.Output.all(*outputs()))
        assert ours == sdk, name
    assert await everything_about(sync_module._all_of([resolved_output("a"), resolved_output("b", resources={web})])) \
        == (["a", "b"], True, False, {web})
    unknown = sync_module._all_of([resolved_output("a"), resolved_output(None, known=False)])
    assert await unknown.is_known() is False
    assert await unknown.apply(lambda _: pytest.fail("an unknown output runs no apply")).is_known() is False


@pulumi.runtime.test
async def test_all_of_fails_as_its_output_fails(mocks: RecordingMocks) -> None:
    reported: list[dict[str, Any]] = []
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(lambda _loop, context: reported.append(context))
    try:
        failing = sync_module._all_of([resolved_output("a"), failed_output(ConfigError("refused by the test"))])
        with pytest.raises(ConfigError, match="refused by the test"):
            await failing.is_known()
        with pytest.raises(ConfigError, match="refused by the test"):
            await failing.future()
        # Handled here: the program would otherwise end on it, as it ends on any output that failed.
        pulumi.runtime.settings.SETTINGS.outputs.clear()
        del failing
        gc.collect()
    finally:
        loop.set_exception_handler(None)
    assert reported == [], "no part of it is left to be logged as an exception never retrieved"
