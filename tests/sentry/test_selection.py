"""The key selection rule (README, "Which key is published"), table-driven."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sentry_dsn_sync.errors import KeySelectionError
from sentry_dsn_sync.sentry import ProjectKey, choose_key


def key(key_id: str, *, label: str = "", active: bool = True, day: int | None = 1) -> ProjectKey:
    return ProjectKey(
        id=key_id,
        label=label or f"label-{key_id}",
        name=label or f"label-{key_id}",
        public_key=key_id,
        public_dsn=f"https://{key_id}@o1.ingest.sentry.io/42",
        project_id=42,
        is_active=active,
        date_created=None if day is None else datetime(2024, 1, day, tzinfo=UTC),
    )


OLD = key("aa01", label="Default", day=1)
NEW = key("aa02", label="Rotation", day=5)
NEWEST_INACTIVE = key("aa03", label="Revoked", day=9, active=False)
SAME_DAY_LOW = key("0b", label="twin", day=3)
SAME_DAY_HIGH = key("0c", label="twin", day=3)
UNDATED = key("ff", label="Legacy", day=None)


@pytest.mark.parametrize(
    ("keys", "key_id", "key_label", "chosen", "others"),
    [
        pytest.param([OLD], None, None, OLD, [], id="single-key"),
        pytest.param([OLD, NEW], None, None, NEW, [OLD], id="newest-wins-during-rotation"),
        pytest.param([NEW, OLD], None, None, NEW, [OLD], id="order-of-the-api-does-not-matter"),
        pytest.param([OLD, NEW, NEWEST_INACTIVE], None, None, NEW, [OLD], id="inactive-newest-is-skipped"),
        pytest.param([SAME_DAY_LOW, SAME_DAY_HIGH], None, None, SAME_DAY_HIGH, [SAME_DAY_LOW], id="tie-highest-id"),
        pytest.param([UNDATED, OLD], None, None, OLD, [UNDATED], id="undated-counts-as-oldest"),
        pytest.param([OLD, NEW], "aa01", None, OLD, [NEW], id="key-id-pins-the-old-key"),
        pytest.param([OLD, NEW], None, "Default", OLD, [NEW], id="key-label-pins-by-label"),
        pytest.param(
            [SAME_DAY_LOW, SAME_DAY_HIGH, OLD], None, "twin", SAME_DAY_HIGH, [SAME_DAY_LOW, OLD], id="duplicate-label-newest"
        ),
    ],
)
def test_choose_key_follows_the_rule(
    keys: list[ProjectKey], key_id: str | None, key_label: str | None, chosen: ProjectKey, others: list[ProjectKey]
) -> None:
    choice = choose_key(keys, project="web", key_id=key_id, key_label=key_label)
    assert choice.key == chosen
    assert set(choice.other_active) == set(others)


def test_decimal_ids_tie_break_numerically() -> None:
    nine, ten = key("9", day=2), key("10", day=2)
    assert choose_key([nine, ten], project="web", key_id=None, key_label=None).key == ten


@pytest.mark.parametrize(
    ("keys", "key_id", "key_label", "expected"),
    [
        pytest.param([], None, None, "project 'web' has no active client key", id="no-keys"),
        pytest.param([NEWEST_INACTIVE], None, None, "project 'web' has no active client key", id="only-inactive"),
        pytest.param([OLD, NEWEST_INACTIVE], "aa03", None, "keyId 'aa03' is inactive; re-activate", id="id-inactive"),
        pytest.param([OLD], "zz99", None, "no active client key with keyId 'zz99'", id="id-missing"),
        pytest.param([OLD, NEWEST_INACTIVE], None, "Revoked", "no active client key labelled 'Revoked'", id="label-inactive"),
        pytest.param([OLD], None, "Nope", "no active client key labelled 'Nope'", id="label-missing"),
    ],
)
def test_choose_key_errors_name_the_project_and_never_fall_back_to_inactive(
    keys: list[ProjectKey], key_id: str | None, key_label: str | None, expected: str
) -> None:
    with pytest.raises(KeySelectionError, match=expected):
        choose_key(keys, project="web", key_id=key_id, key_label=key_label)


def test_no_active_key_error_says_how_to_fix_it() -> None:
    with pytest.raises(KeySelectionError) as caught:
        choose_key([NEWEST_INACTIVE], project="web", key_id=None, key_label=None)
    assert "create or re-activate a client key in Sentry: Project Settings > Client Keys" in str(caught.value)


def test_a_wrong_key_id_lists_the_active_keys_to_choose_from() -> None:
    with pytest.raises(KeySelectionError) as caught:
        choose_key([OLD, NEW], project="web", key_id="nope", key_label=None)
    assert "'Default' (id aa01" in str(caught.value)
    assert "'Rotation' (id aa02" in str(caught.value)


def test_warning_names_every_active_key_and_the_chosen_one() -> None:
    choice = choose_key([OLD, NEW, NEWEST_INACTIVE], project="web", key_id=None, key_label=None)
    warning = choice.warning()
    assert warning is not None
    assert warning.startswith("project 'web' has 2 active client keys")
    assert "publishing the newest, 'Rotation' (id aa02" in warning
    assert "'Default' (id aa01" in warning
    assert "Revoked" not in warning


@pytest.mark.parametrize(
    ("keys", "key_id", "key_label"),
    [([OLD], None, None), ([OLD, NEW], "aa01", None), ([OLD, NEW], None, "Rotation")],
    ids=["single-active-key", "pinned-by-id", "pinned-by-label"],
)
def test_no_warning_for_a_single_key_or_an_explicit_choice(
    keys: list[ProjectKey], key_id: str | None, key_label: str | None
) -> None:
    assert choose_key(keys, project="web", key_id=key_id, key_label=key_label).warning() is None

