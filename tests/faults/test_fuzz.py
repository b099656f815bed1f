"""Random input for every parser that meets the outside world: none may raise anything but the
tool's own errors, each message names what it is about, and no secret ever reaches a message."""

from __future__ import annotations

import re
from typing import Any

import httpx
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from sentry_dsn_sync.config import (
    AUTH_KEYS,
    PROJECT_KEYS,
    TOP_LEVEL_KEYS,
    VAULT_KEYS,
    decode_namespace,
    parse_settings,
    render_vault_path,
)
from sentry_dsn_sync.config._parse import named_key
from sentry_dsn_sync.errors import ConfigError, SentryDsnSyncError, SentryResponseError
from sentry_dsn_sync.paths import is_slug, path_problem
from sentry_dsn_sync.sentry._client import parse_link_header
from sentry_dsn_sync.sentry import check_public_dsn, dsn_problem
from sentry_dsn_sync.sentry._models import MalformedItem, Project, ProjectKey, parse_each
from tests.sentry.fakes import FakeClock, make_client

FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SECRET_MARK = "s3cr3t-part-never-shown"
KNOWN_KEYS = {*TOP_LEVEL_KEYS, *VAULT_KEYS, *PROJECT_KEYS, *(k for keys in AUTH_KEYS.values() for k in keys)}

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=30))
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)
# Keys the parser knows, mixed with anything else, so fuzzing reaches the deep checks.
config_keys = st.sampled_from(sorted(KNOWN_KEYS)) | st.text(max_size=12)
config_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(config_keys, inner, max_size=5),
    max_leaves=16,
)


# -- config ------------------------------------------------------------------------------------


@FUZZ
@given(values=st.dictionaries(config_keys, config_values, max_size=7), env=st.dictionaries(
    st.sampled_from(["SENTRY_ORG", "SENTRY_URL", "SENTRY_AUTH_TOKEN", "VAULT_ADDR", "VAULT_SKIP_VERIFY"]),
    st.text(max_size=20), max_size=5))
def test_random_config_parses_or_fails_with_one_line_per_problem_naming_a_key(
    values: dict[str, Any], env: dict[str, str]
) -> None:
    try:
        parse_settings(values, env, stack="fuzz", secret_keys=["sentryToken", "vault"])
    except ConfigError as exc:
        header, *lines = str(exc).splitlines()
        assert header.startswith("invalid configuration in namespace 'sentry-dsn-sync'")
        assert lines
        for line in lines:
            named = re.match(r"  - ([^:]*):", line)
            assert named, line
            assert named[1], line


@FUZZ
@given(raw=st.dictionaries(st.text(max_size=30), st.one_of(st.text(max_size=40), st.integers())))
@example(raw={":": "{"})  # a key with a ':' is named quoted
def test_raw_pulumi_config_decodes_or_fails_naming_the_key(raw: dict[str, Any]) -> None:
    prefixed = {f"sentry-dsn-sync:{key}": value for key, value in raw.items()}
    try:
        decode_namespace(prefixed)
    except ConfigError as exc:
        # Named as messages name keys: quoted when the key holds a ':' or a space, or is blank.
        culprits = [named_key(key) for key, value in raw.items() if isinstance(value, str) and value[:1] in ("[", "{")]
        assert any(str(exc).startswith(f"{name}: not valid JSON (") for name in culprits), exc


# -- Link header -------------------------------------------------------------------------------


@FUZZ
@given(st.text(max_size=300))
def test_any_link_header_parses_without_error(value: str) -> None:
    for entry in parse_link_header(value):
        assert isinstance(entry.results, bool)


cursors = st.from_regex(r"[0-9]{1,12}:[0-9]{1,5}:[01]", fullmatch=True)


@FUZZ
@given(previous=cursors, following=cursors, more=st.booleans())
def test_link_headers_as_sentry_writes_them_round_trip(previous: str, following: str, more: bool) -> None:
    base = "https://other.example/api/0/organizations/acme/projects/"
    header = (
        f'<{base}?&cursor={previous}>; rel="previous"; results="false"; cursor="{previous}", '
        f'<{base}?&cursor={following}>; rel="next"; results="{str(more).lower()}"; cursor="{following}"'
    )
    entries = parse_link_header(header)
    assert [(e.rel, e.cursor, e.results) for e in entries] == [("previous", previous, False), ("next", following, more)]


# -- DSN validation ----------------------------------------------------------------------------


@FUZZ
@given(dsn=st.text(max_size=80), key=st.text(max_size=10), project_id=st.integers(min_value=0))
def test_any_text_is_judged_as_a_dsn_without_error(dsn: str, key: str, project_id: int) -> None:
    problem = dsn_problem(dsn, public_key=key, project_id=project_id)
    if problem is None:
        assert dsn.startswith(("http://", "https://"))
        assert dsn.rsplit("/", 1)[1] == str(project_id)
        assert f"//{key}@" in dsn


hex_keys = st.from_regex(r"[0-9a-f]{32}", fullmatch=True)
hosts = st.from_regex(r"o[0-9]{1,6}\.ingest(\.[a-z]{2})?\.sentry\.io|sentry\.example\.com:9000|127\.0\.0\.1", fullmatch=True)


@FUZZ
@given(key=hex_keys, host=hosts, project_id=st.integers(min_value=1, max_value=10**16),
       scheme=st.sampled_from(["http", "https"]), prefix=st.sampled_from(["", "/sentry"]))
def test_every_real_dsn_shape_is_accepted(key: str, host: str, project_id: int, scheme: str, prefix: str) -> None:
    assert dsn_problem(f"{scheme}://{key}@{host}{prefix}/{project_id}", public_key=key, project_id=project_id) is None


@FUZZ
@given(key=hex_keys, host=hosts, project_id=st.integers(min_value=1), secret=hex_keys)
def test_a_dsn_with_a_password_is_refused_and_the_password_not_shown(
    key: str, host: str, project_id: int, secret: str
) -> None:
    assume(secret != key)
    dsn = f"https://{key}:{secret}@{host}/{project_id}"
    try:
        check_public_dsn(dsn, key_id=key, public_key=key, project_id=project_id, project="web")
    except SentryResponseError as exc:
        assert "carries a password" in str(exc) and secret not in str(exc) and f"client key '{key}'" in str(exc)
    else:
        raise AssertionError("a DSN with a password was accepted")


# -- slugs and paths ---------------------------------------------------------------------------


@FUZZ
@given(st.text(max_size=60))
def test_path_checks_never_let_a_climbing_or_absolute_path_through(path: str) -> None:
    problem = path_problem(path)
    if problem is None:
        segments = path.rstrip("/").split("/")
        assert not path.startswith("/") and ".." not in segments and "." not in segments and "" not in segments
    if is_slug(path):
        assert path_problem(path) is None and "/" not in path and path.strip(".") != ""


@FUZZ
@given(organization=st.from_regex(r"[a-z][a-z0-9_-]{0,20}", fullmatch=True), project=st.text(max_size=30))
def test_a_template_with_a_slug_renders_a_path_inside_the_mount(organization: str, project: str) -> None:
    if is_slug(project):
        path = render_vault_path("sentry/{organization}/{project}", organization=organization, project=project, stack="s")
        assert path_problem(path) is None


# -- Sentry answers ----------------------------------------------------------------------------


@FUZZ
@given(items=st.lists(json_values | st.fixed_dictionaries({"id": st.text(max_size=8), "secret": st.just(SECRET_MARK),
                                                              "dsn": json_values, "projectId": json_values,
                                                              "public": json_values, "isActive": json_values}),
                      max_size=5))
def test_each_listed_key_parses_or_becomes_a_malformed_item_without_its_secret(items: list[Any]) -> None:
    for parsed in parse_each(items, ProjectKey.from_json, endpoint="GET https://sentry.example.com/api/0/x/"):
        if isinstance(parsed, MalformedItem):
            assert SECRET_MARK not in str(parsed.error)
            assert str(parsed.error).startswith("Sentry answered GET https://sentry.example.com/api/0/x/ with")


@FUZZ
@given(items=st.lists(json_values | st.fixed_dictionaries({"id": json_values, "slug": json_values}), max_size=5))
def test_each_listed_project_parses_with_a_real_slug_or_becomes_a_malformed_item(items: list[Any]) -> None:
    for parsed in parse_each(items, Project.from_json, endpoint="GET https://sentry.example.com/api/0/y/"):
        if isinstance(parsed, Project):
            assert is_slug(parsed.slug)


@FUZZ
@given(body=st.binary(max_size=200) | json_values.map(lambda v: httpx.Response(200, json=v).content))
def test_any_body_sentry_sends_is_read_or_refused_with_the_tools_own_error(body: bytes) -> None:
    client = make_client(lambda request: httpx.Response(200, content=body), FakeClock())
    try:
        client.get_json("projects/acme/web/", what="project 'web'")
    except SentryDsnSyncError as exc:
        assert "sentry.example.com" in str(exc)
