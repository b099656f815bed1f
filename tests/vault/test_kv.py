"""KvStore against a real OpenBao: merge, check-and-set, no-op publishes, onDelete policies."""

from __future__ import annotations

from typing import Any

import hvac
import hvac.exceptions
import pytest

from sentry_dsn_sync.errors import VaultConflictError, VaultError, VaultMountError
from sentry_dsn_sync.vault import KvStore, PublishResult
from sentry_dsn_sync.vault.kv import _Current
from tests.vault.vault_helpers import V1_MOUNT, V2_MOUNT

FIELDS = {
    "dsn": "https://abc123@o1.ingest.sentry.io/42",
    "public_key": "abc123",
    "project_id": "42",
    "project_slug": "web",
    "organization": "acme",
    "key_id": "k1",
}
METADATA = {"managed-by": "sentry-dsn-sync", "stack": "dev"}
ROTATED = {**FIELDS, "dsn": "https://def456@o1.ingest.sentry.io/42", "public_key": "def456", "key_id": "k2"}


def v2(client: hvac.Client) -> KvStore:
    return KvStore(client, mount=V2_MOUNT, kv_version=2)


def v1(client: hvac.Client) -> KvStore:
    return KvStore(client, mount=V1_MOUNT, kv_version=1)


def vault_data(root: hvac.Client, path: str) -> dict[str, Any]:
    return root.secrets.kv.v2.read_secret_version(path, mount_point=V2_MOUNT, raise_on_deleted_version=True)[
        "data"
    ]["data"]


def vault_metadata(root: hvac.Client, path: str) -> dict[str, Any]:
    return root.secrets.kv.v2.read_secret_metadata(path, mount_point=V2_MOUNT)["data"]


def other_writer_patch(root: hvac.Client, path: str, fields: dict[str, str]) -> None:
    """Someone else adding or changing fields, as `bao kv patch` would."""
    current = vault_data(root, path)
    root.secrets.kv.v2.create_or_update_secret(path, secret={**current, **fields}, mount_point=V2_MOUNT)


# -- KV v2: publish ---------------------------------------------------------------------------


def test_first_publish_creates_version_1_with_fields_and_managed_metadata(root: hvac.Client, path: str) -> None:
    store = v2(root)

    result = store.publish(path, FIELDS, custom_metadata=METADATA)

    assert result == PublishResult(written=True, version=1)
    assert vault_data(root, path) == FIELDS
    assert vault_metadata(root, path)["custom_metadata"] == METADATA


def test_publish_keeps_fields_someone_else_created_before_the_tool(root: hvac.Client, path: str) -> None:
    root.secrets.kv.v2.create_or_update_secret(path, secret={"owner": "team-web", "dsn": "stale"}, mount_point=V2_MOUNT)

    result = v2(root).publish(path, FIELDS, custom_metadata=METADATA)

    assert result.version == 2
    assert vault_data(root, path) == {**FIELDS, "owner": "team-web"}


def test_rotation_updates_only_the_tools_fields_and_keeps_foreign_ones(root: hvac.Client, path: str) -> None:
    store = v2(root)
    store.publish(path, FIELDS, custom_metadata=METADATA)
    other_writer_patch(root, path, {"sentry_env": "production"})

    result = store.publish(path, ROTATED, custom_metadata=METADATA)

    assert result == PublishResult(written=True, version=3)
    assert vault_data(root, path) == {**ROTATED, "sentry_env": "production"}


def test_unchanged_publish_makes_no_request_that_writes_and_no_new_version(root: hvac.Client, path: str) -> None:
    v2(root).publish(path, FIELDS, custom_metadata=METADATA)
    store = v2(root)

    result = store.publish(path, FIELDS, custom_metadata=METADATA)

    assert result == PublishResult(written=False, version=1)
    assert store.writes == 0
    assert vault_metadata(root, path)["current_version"] == 1


def test_foreign_fields_alone_do_not_trigger_a_write(root: hvac.Client, path: str) -> None:
    store = v2(root)
    store.publish(path, FIELDS, custom_metadata=METADATA)
    other_writer_patch(root, path, {"extra": "kept"})
    writes_before = store.writes

    result = store.publish(path, FIELDS, custom_metadata=METADATA)

    assert result == PublishResult(written=False, version=2)
    assert store.writes == writes_before


def test_hand_edited_tool_field_is_restored_in_one_new_version(root: hvac.Client, path: str) -> None:
    store = v2(root)
    store.publish(path, FIELDS, custom_metadata=METADATA)
    other_writer_patch(root, path, {"dsn": "edited by hand"})

    result = store.publish(path, FIELDS, custom_metadata=METADATA)

    assert result == PublishResult(written=True, version=3)
    assert vault_data(root, path)["dsn"] == FIELDS["dsn"]


def test_custom_metadata_and_settings_others_set_are_kept(root: hvac.Client, path: str) -> None:
    root.secrets.kv.v2.create_or_update_secret(path, secret={"owner": "x"}, mount_point=V2_MOUNT)
    root.secrets.kv.v2.update_metadata(
        path, max_versions=7, custom_metadata={"team": "web", "stack": "old"}, mount_point=V2_MOUNT
    )

    v2(root).publish(path, FIELDS, custom_metadata=METADATA)

    metadata = vault_metadata(root, path)
    assert metadata["custom_metadata"] == {"team": "web", **METADATA}
    assert metadata["max_versions"] == 7


def test_metadata_drift_alone_is_repaired_without_a_new_data_version(root: hvac.Client, path: str) -> None:
    store = v2(root)
    store.publish(path, FIELDS, custom_metadata=METADATA)
    root.secrets.kv.v2.update_metadata(path, custom_metadata={"stack": "other"}, mount_point=V2_MOUNT)

    result = store.publish(path, FIELDS, custom_metadata=METADATA)

    assert result == PublishResult(written=True, version=1)
    metadata = vault_metadata(root, path)
    assert metadata["custom_metadata"] == METADATA
    assert metadata["current_version"] == 1


def test_paths_with_characters_that_need_quoting_round_trip(root: hvac.Client) -> None:
    path = "sentry/acme/my project+ä"
    store = v2(root)

    store.publish(path, FIELDS, custom_metadata=METADATA)

    stored = store.read(path)
    assert stored is not None and stored.data == FIELDS and stored.custom_metadata == METADATA


def test_publish_after_a_soft_delete_writes_the_next_version(root: hvac.Client, path: str) -> None:
    store = v2(root)
    store.publish(path, FIELDS, custom_metadata=METADATA)
    store.remove(path, policy="delete")

    result = store.publish(path, FIELDS, custom_metadata=METADATA)

    assert result == PublishResult(written=True, version=2)
    assert vault_data(root, path) == FIELDS


def test_publish_expected_new_writes_a_fresh_path_without_reading_it(root: hvac.Client, path: str) -> None:
    store = v2(root)
    store.check_mount()
    reads_before = store.reads

    result = store.publish(path, FIELDS, custom_metadata=METADATA, expect_new=True)

    assert result == PublishResult(written=True, version=1)
    assert (store.reads - reads_before, store.writes) == (0, 2)  # the data, then the custom metadata
    assert vault_data(root, path) == FIELDS
    assert vault_metadata(root, path)["custom_metadata"] == METADATA


def test_publish_expected_new_over_an_existing_secret_merges_instead_of_overwriting(
    root: hvac.Client, path: str
) -> None:
    root.secrets.kv.v2.create_or_update_secret(path, secret={"owner": "team-web", "dsn": "stale"}, mount_point=V2_MOUNT)
    root.secrets.kv.v2.update_metadata(path, custom_metadata={"team": "web"}, mount_point=V2_MOUNT)

    result = v2(root).publish(path, FIELDS, custom_metadata=METADATA, expect_new=True)

    assert result == PublishResult(written=True, version=2)
    assert vault_data(root, path) == {**FIELDS, "owner": "team-web"}
    assert vault_metadata(root, path)["custom_metadata"] == {"team": "web", **METADATA}


def test_publish_expected_new_after_a_soft_delete_writes_the_next_version(root: hvac.Client, path: str) -> None:
    store = v2(root)
    store.publish(path, {"owner": "x"})
    store.remove(path, policy="delete")

    result = store.publish(path, FIELDS, custom_metadata=METADATA, expect_new=True)

    assert result == PublishResult(written=True, version=2)
    assert vault_data(root, path) == FIELDS


# -- KV v2: concurrent writers -----------------------------------------------------------------


def _race_after_read(store: KvStore, root: hvac.Client, path: str, writes: list[dict[str, str]]) -> None:
    """After each of the store's reads, let another writer land a new version (once per entry)."""
    real_read = store._read_v2
    pending = list(writes)

    def read_then_race(p: str) -> _Current:
        current = real_read(p)
        if pending:
            other_writer_patch(root, path, pending.pop(0))
        return current

    store._read_v2 = read_then_race  # type: ignore[method-assign]


def test_writer_racing_between_read_and_write_is_merged_not_overwritten(root: hvac.Client, path: str) -> None:
    root.secrets.kv.v2.create_or_update_secret(path, secret={"owner": "a"}, mount_point=V2_MOUNT)
    store = v2(root)
    _race_after_read(store, root, path, [{"owner": "b", "added-during-race": "yes"}])

    result = store.publish(path, FIELDS, custom_metadata=METADATA)

    # v1 by set-up, v2 by the racing writer, v3 by the tool after re-reading.
    assert result == PublishResult(written=True, version=3)
    assert vault_data(root, path) == {**FIELDS, "owner": "b", "added-during-race": "yes"}
    assert store.writes == 3  # one lost CAS write, the winning one, the metadata patch


def test_writer_that_always_wins_the_race_gets_conflict_error_and_keeps_its_data(
    root: hvac.Client, path: str
) -> None:
    root.secrets.kv.v2.create_or_update_secret(path, secret={"n": "0"}, mount_point=V2_MOUNT)
    store = KvStore(root, mount=V2_MOUNT, kv_version=2, cas_attempts=3)
    _race_after_read(store, root, path, [{"n": str(i)} for i in range(1, 4)])

    with pytest.raises(VaultConflictError, match="3 check-and-set attempts") as caught:
        store.publish(path, FIELDS, custom_metadata=METADATA)

    assert caught.value.path == f"{V2_MOUNT}/data/{path}"
    assert vault_data(root, path) == {"n": "3"}


def test_racing_creator_of_a_new_path_is_not_overwritten(root: hvac.Client, path: str) -> None:
    store = v2(root)
    real_read = store._read_v2

    def read_then_create(p: str) -> _Current:
        current = real_read(p)
        if current.version == 0:
            root.secrets.kv.v2.create_or_update_secret(path, secret={"first": "other"}, mount_point=V2_MOUNT)
        return current

    store._read_v2 = read_then_create  # type: ignore[method-assign]

    result = store.publish(path, FIELDS, custom_metadata=METADATA)

    assert result.version == 2
    assert vault_data(root, path) == {**FIELDS, "first": "other"}


# -- KV v2: read -------------------------------------------------------------------------------


def test_read_reports_data_version_and_custom_metadata(root: hvac.Client, path: str) -> None:
    store = v2(root)
    store.publish(path, FIELDS, custom_metadata=METADATA)
    store.publish(path, ROTATED, custom_metadata=METADATA)

    stored = store.read(path)

    assert stored is not None
    assert (dict(stored.data), stored.version, dict(stored.custom_metadata)) == (ROTATED, 2, METADATA)


def test_read_of_an_absent_path_is_none(root: hvac.Client, path: str) -> None:
    assert v2(root).read(path) is None


def test_peek_answers_what_read_answers(root: hvac.Client, path: str) -> None:
    store = v2(root)
    store.publish(path, FIELDS, custom_metadata=METADATA)
    store.publish(path, ROTATED, custom_metadata=METADATA)
    quoted = f"{path}/with space & ü"
    store.publish(quoted, FIELDS)

    assert store.peek(path) == store.read(path)
    assert store.peek(quoted) == store.read(quoted)
    assert store.peek(f"{path}-absent") is None


def test_peek_of_a_soft_deleted_secret_is_none_as_read_says(root: hvac.Client, path: str) -> None:
    store = v2(root)
    store.publish(path, FIELDS)
    store.remove(path, policy="delete")

    assert store.read(path) is None
    assert store.peek(path) is None


def test_kv1_peek_answers_what_read_answers(root: hvac.Client, path: str) -> None:
    store = v1(root)
    store.publish(path, FIELDS)

    assert store.peek(path) == store.read(path)
    assert store.peek(f"{path}-absent") is None


def test_peek_refused_raises_with_the_status_and_never_the_token(root: hvac.Client, path: str) -> None:
    v2(root).publish(path, FIELDS)
    token = root.auth.token.create(policies=["default"], ttl="5m")["auth"]["client_token"]
    # The mount check is answered for the root token; then only the read is refused.
    store = v2(root)
    store.check_mount()
    root.token = token

    with pytest.raises(VaultError, match=rf"reading `{V2_MOUNT}/data/{path}` answered HTTP 403") as caught:
        store.peek(path)
    assert token not in str(caught.value)


# -- KV v2: remove -----------------------------------------------------------------------------


def test_on_delete_delete_soft_deletes_and_undelete_recovers_it(root: hvac.Client, path: str) -> None:
    store = v2(root)
    store.publish(path, FIELDS, custom_metadata=METADATA)

    store.remove(path, policy="delete")

    assert store.read(path) is None
    root.secrets.kv.v2.undelete_secret_versions(path, versions=[1], mount_point=V2_MOUNT)
    assert vault_data(root, path) == FIELDS


def test_on_delete_destroy_removes_every_version_and_the_metadata(root: hvac.Client, path: str) -> None:
    store = v2(root)
    store.publish(path, FIELDS, custom_metadata=METADATA)
    store.publish(path, ROTATED, custom_metadata=METADATA)

    store.remove(path, policy="destroy")

    with pytest.raises(hvac.exceptions.InvalidPath):
        root.secrets.kv.v2.read_secret_metadata(path, mount_point=V2_MOUNT)


def test_on_delete_retain_leaves_the_secret_and_sends_nothing(root: hvac.Client, path: str) -> None:
    v2(root).publish(path, FIELDS, custom_metadata=METADATA)
    store = v2(root)

    store.remove(path, policy="retain")

    assert (store.reads, store.writes) == (0, 0)
    assert vault_data(root, path) == FIELDS


@pytest.mark.parametrize("policy", ["delete", "destroy", "retain"])
@pytest.mark.parametrize("mount,version", [(V2_MOUNT, 2), (V1_MOUNT, 1)])
def test_removing_a_secret_that_is_already_gone_succeeds(
    root: hvac.Client, path: str, policy: str, mount: str, version: int
) -> None:
    store = KvStore(root, mount=mount, kv_version=version)  # type: ignore[arg-type]

    store.remove(path, policy=policy)  # type: ignore[arg-type]
    store.remove(path, policy=policy)  # type: ignore[arg-type]

    assert store.read(path) is None


# -- KV v1 -------------------------------------------------------------------------------------


def test_kv1_publish_merges_with_foreign_fields_and_skips_unchanged_writes(root: hvac.Client, path: str) -> None:
    root.secrets.kv.v1.create_or_update_secret(path, secret={"owner": "ops"}, method="POST", mount_point=V1_MOUNT)
    store = v1(root)

    first = store.publish(path, FIELDS, custom_metadata=METADATA)
    writes_after_first = store.writes
    second = store.publish(path, FIELDS, custom_metadata=METADATA)

    assert (first, second) == (PublishResult(written=True, version=None), PublishResult(written=False, version=None))
    assert store.writes == writes_after_first == 1
    assert root.secrets.kv.v1.read_secret(path, mount_point=V1_MOUNT)["data"] == {**FIELDS, "owner": "ops"}


def test_kv1_rotation_and_delete(root: hvac.Client, path: str) -> None:
    store = v1(root)
    store.publish(path, FIELDS)
    store.publish(path, ROTATED)
    stored = store.read(path)
    assert stored is not None and dict(stored.data) == ROTATED and stored.version is None

    store.remove(path, policy="delete")

    assert store.read(path) is None


# -- mounts ------------------------------------------------------------------------------------


def test_kv_version_2_configured_on_a_kv1_mount_names_the_real_version(root: hvac.Client, path: str) -> None:
    store = KvStore(root, mount=V1_MOUNT, kv_version=2)

    with pytest.raises(VaultMountError, match=r"`kv1/` .* is KV version 1, but vault.kvVersion is 2"):
        store.publish(path, FIELDS)

    with pytest.raises(hvac.exceptions.InvalidPath):
        root.secrets.kv.v1.read_secret(f"data/{path}", mount_point=V1_MOUNT)


def test_kv_version_1_configured_on_a_kv2_mount_names_the_real_version(root: hvac.Client, path: str) -> None:
    with pytest.raises(VaultMountError, match=r"`apps/` .* is KV version 2, but vault.kvVersion is 1"):
        KvStore(root, mount=V2_MOUNT, kv_version=1).read(path)


def test_missing_mount_is_named_with_how_to_enable_it(root: hvac.Client, path: str) -> None:
    with pytest.raises(VaultMountError, match=r"no secrets engine is mounted at `nowhere/`.*`vault secrets enable"):
        KvStore(root, mount="nowhere", kv_version=2).publish(path, FIELDS)


def test_non_kv_mount_is_refused(root: hvac.Client, path: str) -> None:
    with pytest.raises(VaultMountError, match=r"`cubbyhole/` .* is a 'cubbyhole' secrets engine, not KV"):
        KvStore(root, mount="cubbyhole", kv_version=2).read(path)


def test_mount_is_checked_once_per_store(root: hvac.Client, path: str) -> None:
    store = v2(root)
    store.check_mount()

    store.check_mount()
    store.read(path)

    assert store.reads == 2, "one mount check, one secret read"
