"""Seeds load strictly and derive everything they omit deterministically."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from sentry_simulator import SeedError, SimulatorState, generate_seed, load_seed, parse_seed
from sentry_simulator.seed import DEMO_SEED_PATH, derive_hex


def _keys(seed: dict[str, Any]) -> list[tuple[str, str, str]]:
    state = SimulatorState(parse_seed(seed))
    return [(k.id, k.public, k.secret) for k in state.organization_keys("acme")]


def test_omitted_ids_and_keys_are_the_same_on_every_load(demo_seed: dict[str, Any]) -> None:
    first = _keys(demo_seed)
    second = _keys(copy.deepcopy(demo_seed))
    assert first == second
    assert len({public for _, public, _ in first}) == len(first) == 7


def test_derived_keys_are_32_hex_and_hash_org_project_and_label(demo_seed: dict[str, Any]) -> None:
    state = SimulatorState(parse_seed(demo_seed))
    (key,) = state.project_keys("acme", "worker")
    assert key.public == derive_hex("public", "acme", "worker", "Default", "0")
    assert key.secret == derive_hex("secret", "acme", "worker", "Default", "0")
    assert key.id == key.public
    assert all(len(v) == 32 and int(v, 16) >= 0 for v in (key.id, key.public, key.secret))


def test_renaming_a_label_changes_only_that_keys_derived_values(demo_seed: dict[str, Any]) -> None:
    before = dict((k[0], k) for k in _keys(demo_seed))
    demo_seed["organizations"][0]["projects"][2]["keys"][0]["label"] = "Renamed"
    after = dict((k[0], k) for k in _keys(demo_seed))
    assert len(set(before) - set(after)) == 1


def test_explicit_ids_and_keys_in_the_seed_are_kept(demo_seed: dict[str, Any]) -> None:
    key = demo_seed["organizations"][0]["projects"][0]["keys"][0]
    key.update(id="a" * 32, public="b" * 32, secret="c" * 32)
    state = SimulatorState(parse_seed(demo_seed))
    found = [k for k in state.project_keys("acme", "web") if k.id == "a" * 32]
    assert [(k.public, k.secret) for k in found] == [("b" * 32, "c" * 32)]


def test_omitted_project_and_organization_ids_are_derived_stably() -> None:
    raw = {"organizations": [{"slug": "o", "projects": [{"slug": "p"}]}], "tokens": []}
    first, second = parse_seed(raw), parse_seed(copy.deepcopy(raw))
    assert first == second
    org = first.organizations[0]
    assert len(str(org.id)) == 16 and len(str(org.projects[0].id)) == 16
    assert org.ingest_host == f"o{org.id}.ingest.us.sentry.io"


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda s: s["organizations"][0].pop("slug"), r"organizations\[0\]\.slug: required"),
        (lambda s: s["organizations"][0]["projects"][0]["keys"][0].update(isActive="yes"),
         r"projects\[0\]\.keys\[0\]\.isActive: expected true or false"),
        (lambda s: s["organizations"][0]["projects"][0]["keys"][0].update(dateCreated="2024-01-01T00:00:00"),
         r"dateCreated: .* has no time zone"),
        (lambda s: s["organizations"][0]["projects"][0]["keys"][0].update(secret="xyz"),
         r"keys\[0\]\.secret: expected 32 lowercase hex characters"),
        (lambda s: s["organizations"][0]["teams"][0]["projects"].append("ghost"),
         r"'ghost' is not a project of organization 'acme'"),
        (lambda s: s["organizations"][0]["projects"].append({"slug": "web"}), r"duplicate project slug in acme"),
        (lambda s: s["organizations"][0]["projects"][0].update(status="gone"), r"status: 'gone' is not one of"),
    ],
)
def test_invalid_seeds_fail_with_a_message_naming_the_field(
    demo_seed: dict[str, Any], mutate: Any, message: str
) -> None:
    mutate(demo_seed)
    with pytest.raises(SeedError, match=message):
        parse_seed(demo_seed)


def test_a_bad_secret_is_not_echoed_in_the_error(demo_seed: dict[str, Any]) -> None:
    demo_seed["organizations"][0]["projects"][0]["keys"][0]["secret"] = "not-hex-but-secret-ish-value-xx"
    with pytest.raises(SeedError) as raised:
        parse_seed(demo_seed)
    assert "not-hex" not in str(raised.value)


def test_the_demo_seed_has_the_scenarios_the_demo_needs() -> None:
    seed = load_seed(DEMO_SEED_PATH)
    (acme,) = seed.organizations
    assert acme.slug == "acme"
    assert {t.slug for t in acme.teams} == {"web-team", "platform"}
    projects = {p.slug: p for p in acme.projects}
    assert set(projects) == {"web", "api", "worker", "mobile", "billing"}
    assert [k.is_active for k in projects["web"].keys] == [True, True]
    assert sorted(k.is_active for k in projects["api"].keys) == [False, True]
    tokens = {t.token: t for t in seed.tokens}
    owner = tokens["demo-token"]
    assert owner.scopes == {"org:read", "project:read"}
    # An owner who is not on every team: org-wide key lists without `project=-1` leave projects out.
    assert (owner.kind, owner.role, owner.teams) == ("user", "owner", {"web-team"})
    assert tokens["demo-integration-token"].kind == "integration"
    assert (tokens["demo-member-token"].role, tokens["demo-member-token"].teams) == ("member", {"web-team"})
    org_token = tokens["sntrys_demo-organization-token"]
    assert (org_token.kind, org_token.scopes) == ("organization", {"org:ci"})


def test_generated_seed_has_the_requested_size_and_is_stable() -> None:
    raw = generate_seed(organization="bench", projects=500, keys_per_project=2, token="t")
    assert raw == generate_seed(organization="bench", projects=500, keys_per_project=2, token="t")
    seed = parse_seed(raw)
    (org,) = seed.organizations
    assert len(org.projects) == 500
    assert all(len(p.keys) == 2 and p.keys[1].date_created > p.keys[0].date_created for p in org.projects)
    assert sum(len(t.project_slugs) for t in org.teams) == 500
    assert seed.tokens[0].token == "t"


def test_reprs_never_show_secrets_or_tokens(demo_seed: dict[str, Any]) -> None:
    seed = parse_seed(demo_seed)
    state = SimulatorState(seed)
    key = state.project_keys("acme", "web")[0]
    assert key.secret not in repr(key)
    assert "demo-token" not in repr(seed.tokens)
