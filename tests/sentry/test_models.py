"""Models: parsed once at the edge, secret parts dropped, wrong shapes named."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

import pytest

from sentry_dsn_sync.errors import SentryResponseError
from sentry_dsn_sync.sentry import KeyStatsBucket, Project, ProjectKey

from .fakes import KEY_SECRET, key_json, project_json

ENDPOINT = "GET https://sentry.io/api/0/projects/acme/web/keys/"

# The listProjectKeys example of Sentry's OpenAPI schema (tests/simulator/openapi-subset.json), trimmed
# to the fields that matter here; the secret parts are left in on purpose.
OFFICIAL_KEY: dict[str, Any] = {
    "id": "60120449b6b1d5e45f75561e6dabd80b",
    "name": "Liked Pegasus",
    "label": "Liked Pegasus",
    "public": "60120449b6b1d5e45f75561e6dabd80b",
    "secret": "189485c3b8ccf582bf5e12c530ef8858",
    "projectId": 4505281256090153,
    "isActive": True,
    "rateLimit": {"window": 7200, "count": 1000},
    "dsn": {
        "secret": "https://a785682ddda742d7a8a4088810e67701:bcd99b3790b3441c85ce4b1eaa854f66"
        "@o4504765715316736.ingest.sentry.io/4505281256090153",
        "public": "https://a785682ddda742d7a8a4088810e67791@o4504765715316736.ingest.sentry.io/4505281256090153",
        "cdn": "https://js.sentry-cdn.com/a785682ddda719b7a8a4011110d75598.min.js",
    },
    "browserSdkVersion": "7.x",
    "browserSdk": {"choices": [["latest", "latest"], ["7.x", "7.x"]]},
    "dateCreated": "2023-06-21T19:50:26.036254Z",
    "dynamicSdkLoaderOptions": {"hasReplay": True, "hasPerformance": True, "hasDebug": True},
}

# The listOrganizationProjects example, trimmed: ids are strings there, unlike keys' projectId.
OFFICIAL_PROJECT: dict[str, Any] = {
    "slug": "prime-mover",
    "name": "Prime Mover",
    "dateCreated": "2018-11-06T21:19:58.536Z",
    "id": "3",
    "isMember": True,
    "platform": "",
    "team": {"id": "2", "name": "Powerful Abolitionist", "slug": "powerful-abolitionist"},
    "teams": [{"id": "2", "name": "Powerful Abolitionist", "slug": "powerful-abolitionist"}],
}


def test_project_key_from_the_official_example_keeps_the_public_parts() -> None:
    item = OFFICIAL_KEY
    key = ProjectKey.from_json(item, endpoint=ENDPOINT)
    assert key.id == item["id"]
    assert key.public_key == item["public"]
    assert key.public_dsn == item["dsn"]["public"]
    assert key.project_id == item["projectId"]
    assert key.is_active is True
    assert key.label == item["label"]


def test_project_key_has_no_secret_anywhere() -> None:
    item = OFFICIAL_KEY
    key = ProjectKey.from_json(item, endpoint=ENDPOINT)
    assert not any("secret" in f.name for f in dataclasses.fields(key))
    dumped = repr(key) + repr(dataclasses.asdict(key))
    assert item["secret"] not in dumped
    assert item["dsn"]["secret"] not in dumped


def test_project_key_parses_sentry_timestamps_as_utc() -> None:
    key = ProjectKey.from_json(key_json("abc", created="2024-03-01T10:20:30.123456Z"), endpoint=ENDPOINT)
    assert key.date_created == datetime(2024, 3, 1, 10, 20, 30, 123456, tzinfo=UTC)
    naive = ProjectKey.from_json(key_json("abc", created="2024-03-01T10:20:30"), endpoint=ENDPOINT)
    assert naive.date_created is not None and naive.date_created.tzinfo is UTC


def test_project_key_without_a_creation_date_is_accepted() -> None:
    assert ProjectKey.from_json(key_json("abc", created=None), endpoint=ENDPOINT).date_created is None


def _broken(change: dict[str, Any], drop: str | None = None) -> dict[str, Any]:
    item = key_json("abc") | change
    if drop:
        del item[drop]
    return item


@pytest.mark.parametrize(
    ("item", "problem"),
    [
        (["not", "an", "object"], "client key that is a JSON list"),
        (_broken({}, drop="id"), "without 'id'"),
        (_broken({"public": None}), "without 'public'"),
        (_broken({"isActive": "yes"}), "'isActive' is not true or false"),
        (_broken({"projectId": "forty-two"}), "'projectId' is not an integer"),
        (_broken({"dsn": "https://x@host/1"}), "'dsn' is a str"),
        (_broken({"dsn": {"secret": KEY_SECRET}}), "dsn without 'public'"),
        (_broken({"dateCreated": "yesterday"}), "'dateCreated' is not an ISO 8601 date-time"),
    ],
    ids=["list", "no-id", "null-public", "active-not-bool", "project-id-text", "dsn-string", "dsn-no-public", "bad-date"],
)
def test_wrong_shaped_keys_raise_response_error_naming_endpoint_and_field(item: Any, problem: str) -> None:
    with pytest.raises(SentryResponseError) as caught:
        ProjectKey.from_json(item, endpoint=ENDPOINT)
    message = str(caught.value)
    assert message.startswith(f"Sentry answered {ENDPOINT} with a ")
    assert problem in message
    assert KEY_SECRET not in message
    assert (caught.value.method, caught.value.url) == ("GET", "https://sentry.io/api/0/projects/acme/web/keys/")


def test_project_from_a_list_item_reads_string_id_and_team_slugs() -> None:
    project = Project.from_json(project_json("web", 17, teams=("backend", "sre")), endpoint=ENDPOINT)
    assert project == Project(id=17, slug="web", name="Web", status="active", team_slugs=("backend", "sre"))
    assert project.is_active


def test_project_status_from_the_details_endpoint_is_kept() -> None:
    project = Project.from_json(project_json("old", 3, status="pending_deletion"), endpoint=ENDPOINT)
    assert project.status == "pending_deletion"
    assert not project.is_active


def test_project_with_only_the_legacy_team_field_keeps_its_team() -> None:
    item = {"id": "5", "slug": "web", "name": "Web", "team": {"id": "1", "name": "Ops", "slug": "ops"}}
    assert Project.from_json(item, endpoint=ENDPOINT).team_slugs == ("ops",)


def test_project_from_the_official_list_example_parses() -> None:
    project = Project.from_json(OFFICIAL_PROJECT, endpoint=ENDPOINT)
    assert project == Project(id=3, slug="prime-mover", name="Prime Mover", status="active", team_slugs=("powerful-abolitionist",))


@pytest.mark.parametrize(
    ("item", "problem"),
    [
        ({"id": "1", "name": "Web"}, "project without 'slug'"),
        ({"id": "x1", "slug": "web"}, "project whose 'id' is not an integer"),
        ({"id": "1", "slug": "web", "teams": [{"id": "1"}]}, "project team #0 without 'slug'"),
    ],
)
def test_wrong_shaped_projects_raise_response_error(item: dict[str, Any], problem: str) -> None:
    with pytest.raises(SentryResponseError, match=problem):
        Project.from_json(item, endpoint=ENDPOINT)


def test_models_are_frozen() -> None:
    key = ProjectKey.from_json(key_json("abc"), endpoint=ENDPOINT)
    with pytest.raises(dataclasses.FrozenInstanceError):
        key.public_dsn = "https://other@host/1"  # type: ignore[misc]


def test_project_key_keeps_every_dsn_form_sentry_sends_and_never_the_secret_one() -> None:
    public = OFFICIAL_KEY["public"]
    api = "https://o1.ingest.sentry.io/api/7"
    forms = {
        "csp": f"{api}/csp-report/?sentry_key={public}",
        "otlp_traces": f"{api}/integration/otlp/v1/traces",
        "crons": f"{api}/cron/___MONITOR_SLUG___/{public}/",
    }
    item = {**OFFICIAL_KEY, "dsn": {**OFFICIAL_KEY["dsn"], **forms}}
    key = ProjectKey.from_json(item, endpoint=ENDPOINT)
    # In DSN_FORMS order; `cdn` comes from the official example itself.
    assert dict(key.forms) == {**forms, "cdn": OFFICIAL_KEY["dsn"]["cdn"]}
    assert [name for name, _ in key.forms] == ["csp", "crons", "cdn", "otlp_traces"]
    assert key.form("csp") == forms["csp"] and key.form("nel") is None
    assert "secret" not in dict(key.forms)


def test_project_key_keeps_only_the_dsn_forms_asked_for() -> None:
    api = "https://o1.ingest.sentry.io/api/7"
    item = {**OFFICIAL_KEY, "dsn": {**OFFICIAL_KEY["dsn"], "csp": f"{api}/csp-report/", "nel": f"{api}/nel/"}}
    key = ProjectKey.from_json(item, endpoint=ENDPOINT, forms=("cdn", "nel", "unreal"))
    assert key.forms == (("nel", f"{api}/nel/"), ("cdn", OFFICIAL_KEY["dsn"]["cdn"]))
    assert ProjectKey.from_json(item, endpoint=ENDPOINT, forms=()).forms == ()


def test_key_stats_bucket_reads_sentrys_shape_and_refuses_negative_counts() -> None:
    bucket = KeyStatsBucket.from_json(
        {"ts": 1760000000, "total": 9, "dropped": 2, "accepted": 6, "filtered": 1}, endpoint=ENDPOINT
    )
    assert (bucket.ts, bucket.total, bucket.accepted, bucket.filtered, bucket.dropped) == (1760000000, 9, 6, 1, 2)
    with pytest.raises(SentryResponseError, match="'dropped' is not a whole number"):
        KeyStatsBucket.from_json({"ts": 1, "total": 1, "dropped": -1, "accepted": 1, "filtered": 0}, endpoint=ENDPOINT)
