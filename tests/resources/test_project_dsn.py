"""ProjectDsnProvider's own decisions, without the engine: what check reads, what diff replaces, what delete touches.

Sentry and Vault are simple in-memory fakes put in place of the per-process
context's catalog and KV store, so each test pins one decision of the
provider; the real servers are covered by tests/vault and tests/e2e.
"""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

import dill
import pytest
from pulumi.dynamic.dynamic import serialize_provider

from sentry_dsn_sync.config import OnDelete, VaultSettings, parse_vault_settings
from sentry_dsn_sync.errors import ConfigError, SentryNotFoundError, VaultMountError, VaultPermissionError, VaultUnavailableError
from sentry_dsn_sync.errors import SentryDsnSyncError
from sentry_dsn_sync.resources import project_dsn
from sentry_dsn_sync.resources.project_dsn import MISSING, ProjectDsnArgs, ProjectDsnProvider
from sentry_dsn_sync.resources.context import provider_context
from sentry_dsn_sync.sentry import Project, ProjectKey
from sentry_dsn_sync.vault import PublishResult, StoredSecret

PROJECT = Project(id=42, slug="web", name="Web", status="active", team_slugs=("web-team",))


def key(key_id: str, *, created: int, active: bool = True, label: str = "Default") -> ProjectKey:
    return ProjectKey(
        id=key_id,
        label=label,
        name=label,
        public_key=f"pk{key_id}",
        public_dsn=f"https://pk{key_id}@o1.ingest.example/42",
        project_id=42,
        is_active=active,
        date_created=datetime(2025, 1, created, tzinfo=UTC),
    )


OLD_KEY = key("k1", created=1)
NEW_KEY = key("k2", created=2, label="Rotation")


class FakeCatalog:
    """The organization's projects and keys, as the context's catalog would return them."""

    def __init__(self, keys: list[ProjectKey]) -> None:
        self.keys = keys

    def project(self, slug: str) -> Project:
        if slug != PROJECT.slug:
            raise SentryNotFoundError(f"project '{slug}' does not exist in organization 'acme'")
        return PROJECT

    def active_keys(self, project: str) -> list[ProjectKey]:
        return [k for k in self.keys if k.is_active]


class FakeStore:
    """One KV mount in memory; records every request that would change Vault."""

    def __init__(self) -> None:
        self.secrets: dict[str, dict[str, Any]] = {}
        self.published: list[tuple[str, dict[str, str], dict[str, str]]] = []
        self.removed: list[tuple[str, OnDelete]] = []
        self.reads: list[str] = []
        self.access_checks: list[tuple[str, bool]] = []
        self.denied: VaultPermissionError | None = None
        # Whether each publish was told that nothing was published at its path before.
        self.expected_new: list[bool] = []

    def require_write_access(self, path: str, *, exists: bool) -> None:
        self.access_checks.append((path, exists))
        if self.denied is not None:
            raise self.denied

    def read(self, path: str) -> StoredSecret | None:
        self.reads.append(path)
        data = self.secrets.get(path)
        return None if data is None else StoredSecret(data=MappingProxyType(dict(data)))

    def publish(
        self,
        path: str,
        fields: Mapping[str, str],
        *,
        custom_metadata: Mapping[str, str] | None = None,
        remove: Iterable[str] = (),
        expect_new: bool = False,
    ) -> PublishResult:
        self.published.append((path, dict(fields), dict(custom_metadata or {})))
        self.expected_new.append(expect_new)
        merged = {**self.secrets.get(path, {}), **fields}
        self.secrets[path] = {key: value for key, value in merged.items() if key not in set(remove)}
        return PublishResult(written=True, version=None)

    def remove(self, path: str, *, policy: OnDelete) -> None:
        self.removed.append((path, policy))
        self.secrets.pop(path, None)


class World:
    """What the provider sees through the context, and which stores it opened."""

    def __init__(self) -> None:
        self.catalog = FakeCatalog([OLD_KEY])
        self.store = FakeStore()
        self.opened: list[tuple[str, int]] = []
        self.mount_error: Exception | None = None
        self.on_delete: OnDelete | None = "delete"
        self.read_ahead: list[tuple[str, str, int]] = []

    def start_read_ahead(self, *, stack: str, mount: str, kv_version: int, connection: Any = None) -> None:
        self.read_ahead.append((stack, mount, kv_version))

    def require_write_access(self, store: FakeStore, path: str, *, exists: bool, **_where: Any) -> None:
        store.require_write_access(path, exists=exists)

    def kv_store(self, *, mount: str, kv_version: int, connection: Any = None) -> FakeStore:
        if self.mount_error is not None:
            raise self.mount_error
        self.opened.append((mount, kv_version))
        return self.store

    def vault_settings(self) -> VaultSettings:
        if self.on_delete is None:
            raise ConfigError("invalid configuration in namespace 'sentry-dsn-sync'")
        # No Sentry token here: deleting needs Vault alone.
        return parse_vault_settings({"vault": {"onDelete": self.on_delete}}, {"VAULT_ADDR": "http://127.0.0.1:1"})


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> World:
    world = World()
    monkeypatch.setattr(provider_context, "catalog", lambda *, stack, connection: world.catalog)
    monkeypatch.setattr(provider_context, "kv_store", world.kv_store)
    monkeypatch.setattr(provider_context, "vault_settings", world.vault_settings)
    # Reading ahead is a background matter of the context (tests/resources/test_read_ahead.py);
    # here each check reads its secret through the context's fallback: the store itself.
    monkeypatch.setattr(provider_context, "start_read_ahead", world.start_read_ahead)
    # Asking for many paths at once is the context's matter too (tests/resources/test_write_access.py).
    monkeypatch.setattr(provider_context, "require_write_access", world.require_write_access)
    return world


provider = ProjectDsnProvider()


def program_inputs(**changes: Any) -> dict[str, Any]:
    """What the program registers for project `web` (one `spec` object), before check fills in Sentry's answer."""
    args = ProjectDsnArgs(
        organization="acme",
        project="web",
        stack="dev",
        vault_mount="secret",
        vault_path="sentry/acme/web",
        kv_version=2,
        on_delete="delete",
    )
    return {"spec": {**args.to_inputs(), **changes}, "__provider": "pickled"}


@dataclasses.dataclass(frozen=True)
class State:
    """One resource's state: check gets the old `inputs`, diff, update, read and delete its `outputs`."""

    inputs: dict[str, Any]
    outputs: dict[str, Any]


def published(world: World, **changes: Any) -> State:
    """The state after a successful `up`: the checked inputs, published into the fake Vault."""
    inputs = provider.check({}, program_inputs(**changes)).inputs
    outs = provider.create(inputs).outs
    assert outs is not None
    return State(inputs=inputs, outputs=outs)


# -- check ----------------------------------------------------------------------------------------


def test_check_puts_the_chosen_key_into_the_inputs(world: World) -> None:
    world.catalog.keys = [OLD_KEY, NEW_KEY]

    result = provider.check({}, program_inputs())

    assert result.failures == []
    assert {k: result.inputs[k] for k in ("dsn", "public_key", "key_id", "key_label", "project_id")} == {
        "dsn": NEW_KEY.public_dsn,
        "public_key": "pkk2",
        "key_id": "k2",
        "key_label": "Rotation",
        "project_id": "42",
    }
    assert result.inputs["key_created"] == "2025-01-02T00:00:00+00:00"
    assert "__provider" not in result.inputs


def test_check_spreads_the_programs_spec_into_flat_inputs(world: World) -> None:
    result = provider.check({}, program_inputs())

    assert "spec" not in result.inputs
    assert {k: result.inputs[k] for k in ("organization", "project_slug", "vault_path", "kv_version")} == {
        "organization": "acme",
        "project_slug": "web",
        "vault_path": "sentry/acme/web",
        "kv_version": 2,
    }
    # State written before the program sent one object holds flat inputs; they check the same.
    flat = {**program_inputs()["spec"], "__provider": "pickled"}
    assert provider.check({}, flat).inputs == result.inputs


def test_only_checks_of_published_secrets_start_reading_vault_ahead(world: World) -> None:
    provider.check({}, program_inputs())
    assert world.read_ahead == [], "a first run compares nothing with Vault"

    state = published(world)
    provider.check(state.inputs, program_inputs(vault_path="teams/web"))
    assert world.read_ahead == [], "a moved secret is written anew, not compared"

    provider.check(state.inputs, program_inputs())
    assert world.read_ahead == [("dev", "secret", 2)]


def test_check_builds_the_sentry_client_before_vault_is_read_ahead_and_reads_sentry_after(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The first check of a run waits for Sentry: building its client (CPU work) must not
    # share the interpreter with building Vault's, which runs while Sentry answers.
    events: list[str] = []

    class RecordingCatalog(FakeCatalog):
        def project(self, slug: str) -> Project:
            events.append("sentry read")
            return super().project(slug)

    catalog = RecordingCatalog([OLD_KEY])

    def catalog_for(*, stack: str, connection: Any) -> FakeCatalog:
        events.append("sentry client")
        return catalog

    def start_read_ahead(*, stack: str, mount: str, kv_version: int, connection: Any) -> None:
        events.append("vault read ahead")

    state = published(world)
    monkeypatch.setattr(provider_context, "catalog", catalog_for)
    monkeypatch.setattr(provider_context, "start_read_ahead", start_read_ahead)

    provider.check(state.inputs, program_inputs())

    assert events == ["sentry client", "vault read ahead", "sentry read"]


def test_check_of_a_first_run_checks_the_mount_but_reads_no_secret(world: World) -> None:
    result = provider.check({}, program_inputs(kv_version=1))

    assert "vault_drift" not in result.inputs
    assert world.opened == [("secret", 1)], "the mount (and its KV version) is checked before anything is created"
    assert world.store.reads == []


def test_check_fails_on_the_mount_when_its_kv_version_is_not_the_configured_one(world: World) -> None:
    world.mount_error = VaultMountError("`secret/` at http://vault is KV version 1, but vault.kvVersion is 2")

    result = provider.check({}, program_inputs())

    assert [(f.property, f.reason) for f in result.failures] == [
        ("vault_mount", "`secret/` at http://vault is KV version 1, but vault.kvVersion is 2")
    ]


def test_check_fails_on_the_path_when_vault_is_unreachable(world: World) -> None:
    state = published(world)
    world.mount_error = VaultUnavailableError("cannot reach Vault at http://127.0.0.1:1")

    result = provider.check(state.inputs, program_inputs())

    assert [(f.property, f.reason) for f in result.failures] == [
        ("vault_path", "cannot reach Vault at http://127.0.0.1:1")
    ]


def test_check_fails_on_the_project_when_sentry_does_not_know_it(world: World) -> None:
    result = provider.check({}, program_inputs(project_slug="ghost"))

    assert [f.property for f in result.failures] == ["project_slug"]
    assert "project 'ghost' does not exist" in result.failures[0].reason


def test_check_reports_a_hand_edited_field_with_its_value_in_vault_and_ignores_foreign_fields(world: World) -> None:
    state = published(world)
    world.store.secrets["sentry/acme/web"].update(key_id="edited", owner="team-web")

    result = provider.check(state.inputs, program_inputs())

    assert result.inputs["vault_drift"] == {"key_id": "edited"}


def test_check_reports_every_field_as_missing_when_the_secret_was_deleted(world: World) -> None:
    state = published(world)
    del world.store.secrets["sentry/acme/web"]

    drift = provider.check(state.inputs, program_inputs()).inputs["vault_drift"]

    assert drift == dict.fromkeys(project_dsn.PUBLISHED_FIELDS, MISSING)


def test_check_measures_drift_against_the_last_publish_not_the_new_key(world: World) -> None:
    state = published(world)
    world.catalog.keys = [OLD_KEY, NEW_KEY]

    result = provider.check(state.inputs, program_inputs())

    assert result.inputs["dsn"] == NEW_KEY.public_dsn
    assert "vault_drift" not in result.inputs, "a rotation is a change of dsn, not drift"


def test_check_never_copies_a_pasted_secret_dsn_into_state(world: World) -> None:
    state = published(world)
    world.store.secrets["sentry/acme/web"]["dsn"] = "https://pub:topsecret@o1.ingest.example/42"

    drift = provider.check(state.inputs, program_inputs()).inputs["vault_drift"]

    assert drift == {"dsn": "https://pub:***@o1.ingest.example/42"}


def test_check_after_a_move_reads_neither_location(world: World) -> None:
    state = published(world)
    world.store.reads.clear()

    result = provider.check(state.inputs, program_inputs(vault_path="teams/web/sentry"))

    assert "vault_drift" not in result.inputs
    assert world.store.reads == []


# -- diff -----------------------------------------------------------------------------------------


def test_diff_of_an_unchanged_project_has_no_changes(world: World) -> None:
    state = published(world)

    result = provider.diff("secret/sentry/acme/web", state.outputs, provider.check(state.inputs, program_inputs()).inputs)

    assert result.changes is False
    assert result.replaces == []


def test_diff_of_a_rotation_is_an_update_in_place(world: World) -> None:
    state = published(world)
    world.catalog.keys = [OLD_KEY, NEW_KEY]

    result = provider.diff("id", state.outputs, provider.check(state.inputs, program_inputs()).inputs)

    assert result.changes is True
    assert result.replaces == []


def test_diff_of_drift_alone_is_an_update(world: World) -> None:
    state = published(world)
    world.store.secrets["sentry/acme/web"]["dsn"] = "https://tampered@example/1"

    result = provider.diff("id", state.outputs, provider.check(state.inputs, program_inputs()).inputs)

    assert result.changes is True
    assert result.replaces == []


def test_diff_of_a_new_path_or_mount_replaces_and_creates_before_deleting(world: World) -> None:
    state = published(world)

    moved = provider.diff("id", state.outputs, provider.check(state.inputs, program_inputs(vault_path="teams/web")).inputs)
    remounted = provider.diff("id", state.outputs, provider.check(state.inputs, program_inputs(vault_mount="kv")).inputs)

    assert moved.replaces == ["vault_path"]
    assert remounted.replaces == ["vault_mount"]
    assert moved.delete_before_replace is False


def test_diff_of_a_kv_version_change_updates_in_place_so_the_same_path_is_never_deleted(world: World) -> None:
    state = published(world)

    result = provider.diff("id", state.outputs, provider.check(state.inputs, program_inputs(kv_version=1)).inputs)

    assert result.changes is True
    assert result.replaces == []


def test_outputs_leave_out_what_follows_from_the_key_and_an_empty_drift(world: World) -> None:
    state = published(world)

    assert {"public_key", "key_created", "vault_drift"}.isdisjoint(state.outputs)
    assert "vault_drift" not in state.inputs
    assert {k: state.inputs[k] for k in ("public_key", "key_created")} == {
        "public_key": "pkk1",
        "key_created": "2025-01-01T00:00:00+00:00",
    }, "the inputs keep them: `preview --diff` shows them, and drift is measured against them"
    # Everything diff, update, delete, read and the program use is there.
    assert {*project_dsn.READ_BY_PROGRAM, "project_slug", "organization", "stack", "vault_mount", "vault_path",
            "kv_version", "on_delete"} <= set(state.outputs)


def test_diff_compares_the_derived_fields_only_where_the_old_outputs_hold_them(world: World) -> None:
    state = published(world)
    unchanged = provider.check(state.inputs, program_inputs()).inputs
    world.catalog.keys = [OLD_KEY, NEW_KEY]
    rotated = provider.check(state.inputs, program_inputs()).inputs
    # Outputs written by an older release hold every input, `vault_drift: {}` too.
    older = {**state.inputs, "vault_drift": {}}

    assert not provider.diff("id", older, unchanged).changes
    assert not provider.diff("id", state.outputs, unchanged).changes
    assert provider.diff("id", state.outputs, rotated).changes
    assert provider.diff("id", older, rotated).changes
    assert provider.diff("id", {**older, "public_key": "edited"}, state.inputs).changes


def test_an_up_after_a_refresh_restores_a_public_key_edited_by_hand(world: World) -> None:
    state = published(world)
    world.store.secrets["sentry/acme/web"]["public_key"] = "edited"

    refreshed = provider.read("secret/sentry/acme/web", state.outputs)
    assert refreshed.outs is not None and refreshed.inputs is not None
    news = provider.check(refreshed.inputs, program_inputs()).inputs

    assert "vault_drift" not in news, "the refreshed inputs already say what Vault holds"
    assert provider.diff("id", refreshed.outs, news).changes, "so the outputs must hold it for diff to see it"


# -- create, update, read, delete -----------------------------------------------------------------


def test_create_publishes_only_the_tools_fields_with_managed_metadata(world: World) -> None:
    inputs = provider.check({}, program_inputs()).inputs

    result = provider.create(inputs)

    assert result.id == "secret/sentry/acme/web"
    assert world.store.published == [
        (
            "sentry/acme/web",
            {
                "dsn": OLD_KEY.public_dsn,
                "public_key": "pkk1",
                "project_id": "42",
                "project_slug": "web",
                "organization": "acme",
                "key_id": "k1",
            },
            {"managed-by": "sentry-dsn-sync", "stack": "dev"},
        )
    ]
    # Nothing was published by this resource before: the store may skip reading a fresh path.
    assert world.store.expected_new == [True]
    assert result.outs is not None and "vault_drift" not in result.outs


def test_update_after_drift_records_no_drift_left(world: World) -> None:
    state = published(world)
    world.store.secrets["sentry/acme/web"]["dsn"] = "https://tampered@example/1"
    news = provider.check(state.inputs, program_inputs()).inputs

    outs = provider.update("id", state.outputs, news).outs

    assert outs is not None and "vault_drift" not in outs
    assert world.store.secrets["sentry/acme/web"]["dsn"] == OLD_KEY.public_dsn
    assert world.store.expected_new[-1] is False  # an update reads and merges


def test_read_reports_vaults_values_as_outputs_and_as_inputs(world: World) -> None:
    state = published(world)
    world.store.secrets["sentry/acme/web"]["key_id"] = "edited"
    del world.store.secrets["sentry/acme/web"]["public_key"]

    result = provider.read("secret/sentry/acme/web", state.outputs)

    assert result.id == "secret/sentry/acme/web"
    assert result.outs is not None and result.inputs is not None
    assert (result.outs["key_id"], result.outs["public_key"]) == ("edited", MISSING)
    assert result.inputs == result.outs
    # The next check then compares against what Vault really holds: no drift, a plain dsn/key_id diff.
    assert "vault_drift" not in provider.check(result.inputs, program_inputs()).inputs


def test_read_of_a_secret_gone_from_vault_drops_it_from_state(world: World) -> None:
    state = published(world)
    del world.store.secrets["sentry/acme/web"]

    result = provider.read("secret/sentry/acme/web", state.outputs)

    assert result.id is None


@pytest.mark.parametrize("policy", ["delete", "destroy"])
def test_delete_applies_the_policy_of_the_current_config(world: World, policy: OnDelete) -> None:
    state = published(world)
    world.on_delete = policy

    provider.delete("id", state.outputs)

    assert world.store.removed == [("sentry/acme/web", policy)]


def test_delete_with_retain_does_not_even_open_vault(world: World) -> None:
    state = published(world)
    world.on_delete = "retain"
    world.mount_error = VaultUnavailableError("cannot reach Vault")

    provider.delete("id", state.outputs)

    assert world.store.removed == []


def test_delete_falls_back_to_the_policy_in_state_when_the_config_cannot_be_read(world: World) -> None:
    state = published(world, on_delete="destroy")
    world.on_delete = None

    provider.delete("id", state.outputs)

    assert world.store.removed == [("sentry/acme/web", "destroy")]


def test_check_asks_for_write_access_only_when_up_will_write(world: World) -> None:
    first = provider.check({}, program_inputs())
    assert not first.failures
    assert world.store.access_checks == [("sentry/acme/web", False)]

    world.store.access_checks.clear()
    provider.create(first.inputs)
    world.store.access_checks.clear()
    provider.check(first.inputs, program_inputs())
    assert world.store.access_checks == [], "a no-op run costs no extra Vault request"


def test_missing_write_access_fails_check_before_anything_is_written(world: World) -> None:
    world.store.denied = VaultPermissionError("the Vault token's policy lacks `patch` on `secret/metadata/sentry/acme/web`")
    result = provider.check({}, program_inputs())
    assert [(f.property, f.reason) for f in result.failures] == [
        ("vault_path", "the Vault token's policy lacks `patch` on `secret/metadata/sentry/acme/web`")
    ]
    assert world.store.published == []


# -- DSN forms ------------------------------------------------------------------------------------


def with_forms(base: ProjectKey) -> ProjectKey:
    api = "https://o1.ingest.example/api/42"
    return dataclasses.replace(
        base,
        forms=(
            ("csp", f"{api}/csp-report/?sentry_key={base.public_key}"),
            ("cdn", f"https://js.sentry-cdn.com/{base.public_key}.min.js"),
            ("otlp_traces", f"{api}/integration/otlp/v1/traces"),
        ),
    )


def test_check_adds_each_chosen_dsn_form_as_its_own_field_and_create_publishes_it(world: World) -> None:
    world.catalog.keys = [with_forms(OLD_KEY)]

    inputs = provider.check({}, program_inputs(dsn_forms=["csp", "cdn"])).inputs
    provider.create(inputs)

    assert inputs["dsn_csp"] == with_forms(OLD_KEY).form("csp")
    assert inputs["dsn_cdn"] == "https://js.sentry-cdn.com/pkk1.min.js"
    assert "dsn_otlp_traces" not in inputs, "only chosen forms are published"
    ((_, fields, _),) = world.store.published
    assert set(fields) == {*project_dsn.PUBLISHED_FIELDS, "dsn_csp", "dsn_cdn"}


def test_a_form_sentry_does_not_send_fails_the_projects_step_naming_the_form(world: World) -> None:
    world.catalog.keys = [with_forms(OLD_KEY)]

    result = provider.check({}, program_inputs(dsn_forms=["nel"]))

    # This project's own problem: it fails its create, not the whole run's checks.
    assert result.failures == []
    assert "no 'nel' DSN form for key k1" in result.inputs["sentry_problem"]
    with pytest.raises(SentryDsnSyncError, match="remove 'nel' from `dsnForms`"):
        provider.create(result.inputs)


def test_a_hand_edited_form_is_drift_and_a_rotation_changes_every_form(world: World) -> None:
    world.catalog.keys = [with_forms(OLD_KEY)]
    state = published(world, dsn_forms=["csp", "cdn"])
    world.store.secrets["sentry/acme/web"]["dsn_cdn"] = "https://evil.example/loader.js"

    drifted = provider.check(state.inputs, program_inputs(dsn_forms=["csp", "cdn"])).inputs
    assert drifted["vault_drift"] == {"dsn_cdn": "https://evil.example/loader.js"}

    world.catalog.keys = [with_forms(OLD_KEY), with_forms(NEW_KEY)]
    rotated = provider.check(state.inputs, program_inputs(dsn_forms=["csp", "cdn"])).inputs
    diff = provider.diff("id", state.outputs, rotated)
    assert diff.changes and {"dsn", "dsn_csp", "dsn_cdn", "key_id"} <= set(_changed(state.outputs, rotated))


def test_dropping_a_form_removes_only_its_field_from_the_secret(world: World) -> None:
    world.catalog.keys = [with_forms(OLD_KEY)]
    state = published(world, dsn_forms=["csp", "cdn"])
    world.store.secrets["sentry/acme/web"]["owner"] = "team-web"

    news = provider.check(state.inputs, program_inputs(dsn_forms=["csp"])).inputs
    assert provider.diff("id", state.outputs, news).changes
    assert "dsn_cdn" in _changed(state.outputs, news)
    provider.update("id", state.outputs, news)

    secret = world.store.secrets["sentry/acme/web"]
    assert "dsn_cdn" not in secret
    assert secret["dsn_csp"] == with_forms(OLD_KEY).form("csp") and secret["owner"] == "team-web"


def _changed(olds: dict[str, Any], news: dict[str, Any]) -> set[str]:
    return {k for k in set(olds) | set(news) if k not in ("__provider", "vault_drift") and olds.get(k) != news.get(k)}


# -- a problem of this project alone in Sentry's answer --------------------------------------------


def test_a_hostile_dsn_fails_only_the_update_and_keeps_the_last_published_values(world: World) -> None:
    state = published(world)
    hostile = key("k3", created=3)
    world.catalog.keys = [OLD_KEY, dataclasses.replace(hostile, public_dsn="javascript:alert(1)")]

    checked = provider.check(state.inputs, program_inputs())

    assert checked.failures == [], "a check failure would end the whole run, not this project's step"
    assert {k: checked.inputs[k] for k in ("dsn", "key_id")} == {"dsn": OLD_KEY.public_dsn, "key_id": "k1"}
    assert checked.inputs["sentry_problem"].startswith("project 'web': client key 'k3' has a public DSN")
    assert provider.diff("secret/sentry/acme/web", state.outputs, checked.inputs).changes is True
    with pytest.raises(SentryDsnSyncError, match="client key 'k3' has a public DSN that has the scheme 'javascript'"):
        provider.update("secret/sentry/acme/web", state.outputs, checked.inputs)
    assert len(world.store.published) == 1, "nothing written after the first publish"


def test_a_project_without_an_active_key_fails_its_create_with_the_reason(world: World) -> None:
    world.catalog.keys = [dataclasses.replace(OLD_KEY, is_active=False)]

    checked = provider.check({}, program_inputs())

    assert checked.failures == [] and "dsn" not in checked.inputs
    with pytest.raises(SentryDsnSyncError, match="project 'web' has no active client key"):
        provider.create(checked.inputs)
    assert world.store.published == []


# -- a program's own connection ----------------------------------------------------------------


EU = {"sentryUrl": "https://de.sentry.io/", "sentryTokenEnv": "EU_TOKEN", "vault": {"address": "http://eu:8200"}}


def test_a_resource_with_a_connection_reads_sentry_and_vault_through_it_with_its_organization(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[Any] = []

    def catalog_for(*, stack: str, connection: Any) -> FakeCatalog:
        asked.append(("sentry", connection))
        return world.catalog

    def kv_store(*, mount: str, kv_version: int, connection: Any = None) -> FakeStore:
        asked.append(("vault", connection))
        return world.store

    monkeypatch.setattr(provider_context, "catalog", catalog_for)
    monkeypatch.setattr(provider_context, "kv_store", kv_store)

    result = provider.check({}, program_inputs(connection=EU))

    assert result.inputs["connection"] == EU, "kept in state as given: it holds no credential"
    assert asked == [("sentry", {**EU, "organization": "acme"}), ("vault", {**EU, "organization": "acme"})]


def test_a_resource_without_a_connection_reads_the_stack_config(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[Any] = []
    monkeypatch.setattr(provider_context, "catalog", lambda *, stack, connection: asked.append(connection) or world.catalog)

    result = provider.check({}, program_inputs())

    assert asked == [None] and "connection" not in result.inputs


def test_delete_of_a_resource_with_a_connection_applies_the_policy_its_program_gave(world: World) -> None:
    state = published(world, on_delete="retain", connection=EU)
    world.on_delete = "destroy"  # the stack config's: not this resource's

    provider.delete("id", state.outputs)

    assert world.store.removed == []


# -- the provider as state records it -------------------------------------------------------------


# -- the engine's log ------------------------------------------------------------------------------


def test_check_leaves_its_warning_to_the_next_call_which_delivers_it_before_answering(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    monkeypatch.setattr(project_dsn.engine_log, "flush", lambda: calls.append("flush"))
    world.catalog.keys = [OLD_KEY, NEW_KEY]  # two active keys: check warns

    inputs = provider.check({}, program_inputs()).inputs
    assert calls == []  # the engine waits for each check in turn: no round trip here

    outputs = provider.create(inputs).outs
    assert outputs is not None
    provider.diff("id", outputs, provider.check(inputs, program_inputs()).inputs)
    provider.update("id", outputs, inputs)
    provider.read("id", outputs)
    provider.delete("id", outputs)
    assert calls == ["flush"] * 5


def test_a_failed_check_delivers_its_records_before_it_answers(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    monkeypatch.setattr(project_dsn.engine_log, "flush", lambda: calls.append("flush"))

    result = provider.check({}, program_inputs(project_slug="gone"))

    assert result.failures and calls == ["flush"]


def test_state_names_the_provider_by_the_package_and_older_names_still_load() -> None:
    pickled = base64.b64decode(serialize_provider(ProjectDsnProvider()))

    assert b"\x8c\x0fsentry_dsn_sync\x94\x8c\x12ProjectDsnProvider\x94" in pickled
    assert b"resources" not in pickled, "the module path is not repeated in every resource's state"
    for older in ("sentry_dsn_sync.resources.project_dsn", "components.resources.project_dsn"):
        module = older.encode()
        reference = b"\x8c" + bytes([len(module)]) + module + b"\x94\x8c\x12ProjectDsnProvider\x94\x93\x94)\x81\x94."
        by_older_release = b"\x80\x04\x95" + len(reference).to_bytes(8, "little") + reference
        assert type(dill.loads(by_older_release)) is ProjectDsnProvider
