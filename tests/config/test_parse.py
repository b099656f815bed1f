"""Stack config and environment -> typed settings: every invalid input fails with one actionable message."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sentry_dsn_sync.config import (
    DEFAULT_PATH_TEMPLATE,
    AppRoleAuth,
    CertAuth,
    JwtAuth,
    KubernetesAuth,
    ProjectSpec,
    Secret,
    Settings,
    TokenAuth,
    UserpassAuth,
    parse_settings,
    parse_vault_settings,
    render_vault_path,
)
from sentry_dsn_sync.errors import ConfigError

SENTRY_TOKEN = "sntrys_eyJpYXQiOjE3MDAwMDAwMDB9_token-that-must-never-show"
VAULT_TOKEN = "hvs.vault-token-that-must-never-show"
SECRET_ID = "8b2b5c1e-secret-id-that-must-never-show"
JWT = "eyJhbGciOiJSUzI1NiJ9.jwt-that-must-never-show.c2ln"
ENV = {"SENTRY_AUTH_TOKEN": SENTRY_TOKEN, "VAULT_ADDR": "http://127.0.0.1:8200"}
BASE: dict[str, Any] = {"organization": "acme", "projects": ["web"]}


def parse(values: dict[str, Any], env: dict[str, str] | None = None, **kwargs: Any) -> Settings:
    return parse_settings(values, ENV if env is None else env, stack="dev", **kwargs)


def problems_of(values: dict[str, Any], env: dict[str, str] | None = None, **kwargs: Any) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse(values, env, **kwargs)
    message = str(caught.value)
    assert message.startswith("invalid configuration in namespace 'sentry-dsn-sync':\n")
    return [line.removeprefix("  - ") for line in message.splitlines()[1:]]


# Each row: what is wrong, the config (over BASE), the env (None: ENV), and the parts of the one
# message a user needs: the key, the bad value, and what is allowed instead.
INVALID: list[tuple[str, dict[str, Any], dict[str, str] | None, list[str]]] = [
    (
        "missing organization",
        {"organization": None},
        None,
        ["organization: missing", "pulumi config set organization", "SENTRY_ORG"],
    ),
    (
        "organization that is not a slug",
        {"organization": "Acme Corp"},
        None,
        ["organization: 'Acme Corp' is not a Sentry slug", "lowercase letters, digits"],
    ),
    (
        "organization from SENTRY_ORG that is not a slug",
        {"organization": None},
        {**ENV, "SENTRY_ORG": "acme.io"},
        ["organization (from SENTRY_ORG): 'acme.io' is not a Sentry slug", "lowercase letters"],
    ),
    (
        "organization that is not a string",
        {"organization": 42},
        None,
        ["organization: 42 must be a non-empty string"],
    ),
    (
        "empty project list",
        {"projects": []},
        None,
        ["projects: [] is empty", "add at least one project slug, or set `team`"],
    ),
    (
        "no projects and no team",
        {"projects": None},
        None,
        ["projects: missing", "list project slugs, or set `team`"],
    ),
    (
        "projects that are not a list",
        {"projects": "web,api"},
        None,
        ["projects: 'web,api' is not a list", "list of slugs or {slug, keyLabel, keyId, path} objects"],
    ),
    (
        "duplicate slugs",
        {"projects": ["web", "api", "web"]},
        None,
        ["projects[2]: 'web' is already listed at projects[0]", "keep one entry per project"],
    ),
    (
        "duplicate slug as a string and an object",
        {"projects": ["web", {"slug": "web", "keyLabel": "Default"}]},
        None,
        ["projects[1]: 'web' is already listed at projects[0]"],
    ),
    (
        "slug with characters Sentry never uses",
        {"projects": ["Web App!"]},
        None,
        ["projects[0]: 'Web App!' is not a Sentry slug", "lowercase letters, digits, '-' and '_'"],
    ),
    (
        "slug with a path separator",
        {"projects": ["web/../admin"]},
        None,
        ["projects[0]: 'web/../admin' is not a Sentry slug"],
    ),
    (
        "slug of digits only",
        {"projects": ["12345"]},
        None,
        ["projects[0]: '12345' is not a Sentry slug", "not only digits"],
    ),
    (
        "object slug with a dot",
        {"projects": [{"slug": "web.app"}]},
        None,
        ["projects[0].slug: 'web.app' is not a Sentry slug", "lowercase letters"],
    ),
    (
        "object without a slug",
        {"projects": [{"keyLabel": "Default"}]},
        None,
        ["projects[0].slug: missing", "needs the project's slug"],
    ),
    (
        "both keyId and keyLabel",
        {"projects": [{"slug": "web", "keyId": "a1b2", "keyLabel": "Default"}]},
        None,
        ["projects[0]: both keyId 'a1b2' and keyLabel 'Default' are set", "keep one"],
    ),
    (
        "empty keyLabel",
        {"projects": [{"slug": "web", "keyLabel": " "}]},
        None,
        ["projects[0].keyLabel: ' ' must be a non-empty string"],
    ),
    (
        "project path with a placeholder",
        {"projects": [{"slug": "web", "path": "apps/{project}"}]},
        None,
        ["projects[0].path: 'apps/{project}' is not a usable Vault path", "without placeholders"],
    ),
    (
        "project path climbing out of the mount",
        {"projects": [{"slug": "web", "path": "apps/../../sys/web"}]},
        None,
        ["projects[0].path: 'apps/../../sys/web' is not a usable Vault path: it has a '..' segment"],
    ),
    (
        "absolute project path",
        {"projects": [{"slug": "web", "path": "/apps/web"}]},
        None,
        ["projects[0].path: '/apps/web' is not a usable Vault path: it is absolute"],
    ),
    (
        "project path with a '.' segment",
        {"projects": [{"slug": "web", "path": "apps/./web"}]},
        None,
        ["projects[0].path: 'apps/./web' is not a usable Vault path: it has a '.' segment"],
    ),
    (
        "pathTemplate climbing out of the mount",
        {"vault": {"pathTemplate": "../sys/{project}"}},
        None,
        ["vault.pathTemplate: '../sys/{project}' is not a usable Vault path: it has a '..' segment"],
    ),
    (
        "absolute pathTemplate",
        {"vault": {"pathTemplate": "/sentry/{project}"}},
        None,
        ["vault.pathTemplate: '/sentry/{project}' is not a usable Vault path: it is absolute"],
    ),
    (
        "pathTemplate with an empty segment",
        {"vault": {"pathTemplate": "sentry//{project}"}},
        None,
        ["vault.pathTemplate: 'sentry//{project}' is not a usable Vault path: it has an empty segment"],
    ),
    (
        "mount climbing out",
        {"vault": {"mount": "kv/../sys"}},
        None,
        ["vault.mount: 'kv/../sys' is not a mount path: it has a '..' segment"],
    ),
    (
        "blank unknown key",
        {"": "x"},
        None,
        ["'': unknown key"],
    ),
    (
        "unknown key in a project object",
        {"projects": [{"slug": "web", "keylabel": "Default"}]},
        None,
        ["projects[0].keylabel: unknown key", "did you mean 'keyLabel'?"],
    ),
    (
        "unknown key in the vault object",
        {"vault": {"path_template": "x/{project}"}},
        None,
        ["vault.path_template: unknown key", "did you mean 'pathTemplate'?"],
    ),
    (
        "unknown top-level key",
        {"sentryURL": "https://sentry.io/"},
        None,
        ["sentryURL: unknown key", "did you mean 'sentryUrl'?"],
    ),
    (
        "unknown key in vault.auth",
        {"vault": {"auth": {"method": "approle", "roleId": "sync", "secretIdEnvironment": "X"}}},
        None,
        ["vault.auth.secretIdEnvironment: unknown key", "did you mean 'secretIdEnv'?"],
    ),
    (
        "unknown key like nothing allowed",
        {"colour": "blue"},
        None,
        ["colour: unknown key", "allowed keys: organization, sentryUrl, sentryToken, sentryTokenEnv, projects, team, vault"],
    ),
    (
        "kvVersion 3",
        {"vault": {"kvVersion": 3}},
        None,
        ["vault.kvVersion: 3 is not supported", "allowed: 1, 2"],
    ),
    (
        "kvVersion true",
        {"vault": {"kvVersion": True}},
        None,
        ["vault.kvVersion: True is not supported", "allowed: 1, 2"],
    ),
    (
        "pathTemplate with an unknown placeholder",
        {"vault": {"pathTemplate": "{env}/sentry/{project}"}},
        None,
        [
            "vault.pathTemplate: unknown placeholder {env} in '{env}/sentry/{project}'",
            "allowed: {organization}, {project}, {stack}",
        ],
    ),
    (
        "pathTemplate with a format spec",
        {"vault": {"pathTemplate": "sentry/{project:>10}"}},
        None,
        ["vault.pathTemplate: placeholder {project} in 'sentry/{project:>10}' has a format spec", "plain {project}"],
    ),
    (
        "pathTemplate with an unclosed brace",
        {"vault": {"pathTemplate": "sentry/{project"}},
        None,
        ["vault.pathTemplate: 'sentry/{project' is malformed", "placeholders look like {project}"],
    ),
    (
        "pathTemplate mapping two projects to one path",
        {"projects": ["web", "api"], "vault": {"pathTemplate": "sentry/{organization}"}},
        None,
        [
            "vault.pathTemplate: 'sentry/{organization}' maps both 'web' and 'api' to secret/sentry/acme",
            "include {project}",
        ],
    ),
    (
        "pathTemplate without {project} for a team",
        {"projects": None, "team": "platform", "vault": {"pathTemplate": "{stack}/sentry"}},
        None,
        ["vault.pathTemplate: '{stack}/sentry' has no {project}", "team 'platform'", "include {project}"],
    ),
    (
        "a project path that is another project's templated path",
        {"projects": [{"slug": "web", "path": "sentry/acme/api"}, "api"]},
        None,
        ["projects: 'web' and 'api' both map to secret/sentry/acme/api", "another `path`"],
    ),
    (
        "sentryUrl that is not http(s)",
        {"sentryUrl": "ftp://sentry.example.com/"},
        None,
        ["sentryUrl: 'ftp://sentry.example.com/' is not an http(s) URL", "https://sentry.io/"],
    ),
    (
        "sentryUrl without a scheme",
        {"sentryUrl": "sentry.example.com"},
        None,
        ["sentryUrl: 'sentry.example.com' is not an http(s) URL"],
    ),
    (
        "SENTRY_URL that is not http(s)",
        {},
        {**ENV, "SENTRY_URL": "localhost:9000"},
        ["sentryUrl (from SENTRY_URL): 'localhost:9000' is not an http(s) URL"],
    ),
    (
        "sentryUrl with a query",
        {"sentryUrl": "https://sentry.example.com/?org=acme"},
        None,
        ["sentryUrl: 'https://sentry.example.com/?org=acme' has a query or fragment", "base URL only"],
    ),
    (
        "plaintext sentryToken",
        {"sentryToken": SENTRY_TOKEN},
        None,
        ["sentryToken: stored in plain text", "pulumi config set --secret sentryToken <token>"],
    ),
    (
        "no Sentry token anywhere",
        {},
        {"VAULT_ADDR": "http://127.0.0.1:8200"},
        ["sentryToken: missing", "pulumi config set --secret sentryToken", "SENTRY_AUTH_TOKEN"],
    ),
    (
        "onDelete misspelled",
        {"vault": {"onDelete": "destory"}},
        None,
        ["vault.onDelete: 'destory' is not one of delete, destroy, retain", "did you mean 'destroy'?"],
    ),
    (
        "onDelete in another case",
        {"vault": {"onDelete": "Retain"}},
        None,
        ["vault.onDelete: 'Retain' is not one of delete, destroy, retain", "did you mean 'retain'?"],
    ),
    (
        "no Vault address anywhere",
        {},
        {"SENTRY_AUTH_TOKEN": SENTRY_TOKEN},
        ["vault.address: missing", "VAULT_ADDR"],
    ),
    (
        "Vault address that is not http(s)",
        {"vault": {"address": "vault.example.com:8200"}},
        None,
        ["vault.address: 'vault.example.com:8200' is not an http(s) URL", "https://vault.example.com:8200"],
    ),
    (
        "VAULT_ADDR that is not http(s)",
        {},
        {**ENV, "VAULT_ADDR": "tcp://127.0.0.1:8200"},
        ["vault.address (from VAULT_ADDR): 'tcp://127.0.0.1:8200' is not an http(s) URL"],
    ),
    (
        "vault that is not an object",
        {"vault": "https://vault.example.com"},
        None,
        ["vault: a string is not allowed here", "must be an object"],
    ),
    (
        "mount that is only slashes",
        {"vault": {"mount": "/"}},
        None,
        ["vault.mount: '/' is not a mount path", "e.g. secret"],
    ),
    (
        "skipVerify that is not a boolean",
        {"vault": {"skipVerify": "maybe"}},
        None,
        ["vault.skipVerify: 'maybe' is not a boolean", "allowed: true, false"],
    ),
    (
        "VAULT_SKIP_VERIFY that is not a boolean",
        {},
        {**ENV, "VAULT_SKIP_VERIFY": "perhaps"},
        ["vault.skipVerify (from VAULT_SKIP_VERIFY): 'perhaps' is not a boolean", "allowed: true, false"],
    ),
    (
        "caCert that does not exist",
        {"vault": {"caCert": "/nonexistent/ca.pem"}},
        None,
        ["vault.caCert: '/nonexistent/ca.pem' does not exist", "PEM CA bundle"],
    ),
    (
        "VAULT_CACERT that does not exist",
        {},
        {**ENV, "VAULT_CACERT": "/nonexistent/env-ca.pem"},
        ["vault.caCert (from VAULT_CACERT): '/nonexistent/env-ca.pem' does not exist"],
    ),
    (
        "unknown auth method",
        {"vault": {"auth": {"method": "approel", "roleId": "sync"}}},
        None,
        ["vault.auth.method: 'approel' is not one of token, approle, jwt, kubernetes, cert, userpass",
         "did you mean 'approle'?"],
    ),
    (
        "approle without a roleId",
        {"vault": {"auth": {"method": "approle"}}},
        None,
        ["vault.auth.roleId: missing", "the approle method needs it"],
    ),
    (
        "jwt without a role",
        {"vault": {"auth": {"method": "jwt", "jwtEnv": "CI_JOB_JWT"}}},
        None,
        ["vault.auth.role: missing", "the jwt method needs it"],
    ),
    (
        "jwt with neither jwt nor jwtEnv",
        {"vault": {"auth": {"method": "jwt", "role": "deploy"}}},
        None,
        ["vault.auth: the jwt method needs `jwtEnv`", "pulumi config set --secret --path vault.auth.jwt"],
    ),
    (
        "kubernetes without a role",
        {"vault": {"auth": {"method": "kubernetes"}}},
        None,
        ["vault.auth.role: missing", "the kubernetes method needs it"],
    ),
    (
        "caPath that is not a directory",
        {"vault": {"caPath": "/nonexistent/ca-dir"}},
        None,
        ["vault.caPath: '/nonexistent/ca-dir' is not a directory", "PEM CA certificates"],
    ),
    (
        "VAULT_CAPATH that is not a directory",
        {},
        {**ENV, "VAULT_CAPATH": "/nonexistent/env-ca-dir"},
        ["vault.caPath (from VAULT_CAPATH): '/nonexistent/env-ca-dir' is not a directory"],
    ),
    (
        "clientCert that does not exist",
        {"vault": {"clientCert": "/nonexistent/client.pem", "clientKey": __file__}},
        None,
        ["vault.clientCert: '/nonexistent/client.pem' does not exist", "PEM file"],
    ),
    (
        "VAULT_CLIENT_CERT without VAULT_CLIENT_KEY",
        {},
        {**ENV, "VAULT_CLIENT_CERT": __file__},
        ["vault.clientCert (from VAULT_CLIENT_CERT): set without vault.clientKey (or VAULT_CLIENT_KEY)"],
    ),
    (
        "clientKey without clientCert",
        {"vault": {"clientKey": __file__}},
        None,
        ["vault.clientKey: set without vault.clientCert (or VAULT_CLIENT_CERT)", "TLS needs both"],
    ),
    (
        "cert login without a client certificate",
        {"vault": {"auth": {"method": "cert", "name": "deploy"}}},
        None,
        ["vault.auth: the cert method logs in with the TLS client certificate", "VAULT_CLIENT_CERT"],
    ),
    (
        "userpass without a username",
        {"vault": {"auth": {"method": "userpass", "passwordEnv": "DEPLOY_PASSWORD"}}},
        None,
        ["vault.auth.username: missing", "the userpass method needs it"],
    ),
    (
        "userpass password in plain text",
        {"vault": {"auth": {"method": "userpass", "username": "deployer", "password": "hunter2"}}},
        None,
        ["vault.auth.password: stored in plain text", "pulumi config set --secret --path vault.auth.password"],
    ),
    (
        "team that is not a slug",
        {"projects": None, "team": "Platform Team"},
        None,
        ["team: 'Platform Team' is not a Sentry slug"],
    ),
]


@pytest.mark.parametrize(("values", "env", "expected"), [row[1:] for row in INVALID], ids=[row[0] for row in INVALID])
def test_each_invalid_input_fails_with_one_message_naming_key_value_and_what_is_allowed(
    values: dict[str, Any], env: dict[str, str] | None, expected: list[str]
) -> None:
    config = {key: value for key, value in {**BASE, **values}.items() if value is not None}

    problems = problems_of(config, env)

    assert len(problems) == 1, problems
    for part in expected:
        assert part in problems[0]


def test_every_problem_is_reported_in_one_run() -> None:
    problems = problems_of(
        {"organization": "Acme", "projects": ["web", "web"], "vault": {"kvVersion": 3, "onDelete": "keep"}}
    )

    assert [p.split(":")[0] for p in problems] == ["organization", "projects[1]", "vault.kvVersion", "vault.onDelete"]


def test_a_config_error_fails_before_anything_is_read() -> None:
    # parse_settings is pure: an invalid config raises without touching the network.
    with pytest.raises(ConfigError):
        parse({"organization": "acme", "projects": []}, {"SENTRY_AUTH_TOKEN": "t", "VAULT_ADDR": "http://10.255.255.1"})


# -- secrets never show ------------------------------------------------------------------------


LEAKY_CONFIGS: list[tuple[str, dict[str, Any], frozenset[str]]] = [
    ("plaintext sentryToken", {**BASE, "sentryToken": SENTRY_TOKEN}, frozenset()),
    ("sentryToken of the wrong type", {**BASE, "sentryToken": [SENTRY_TOKEN]}, frozenset({"sentryToken"})),
    ("vault.auth given as the token", {**BASE, "vault": {"auth": VAULT_TOKEN}}, frozenset()),
    ("vault given as the token", {**BASE, "vault": VAULT_TOKEN}, frozenset()),
    (
        "inline credentials next to other errors",
        {
            "organization": "acme",
            "projects": [],
            "sentryToken": SENTRY_TOKEN,
            "vault": {"kvVersion": 9, "auth": {"method": "approle", "secretId": SECRET_ID, "roleID": SECRET_ID}},
        },
        frozenset({"sentryToken", "vault"}),
    ),
    (
        "credential of the wrong type",
        {**BASE, "vault": {"auth": {"method": "jwt", "role": "deploy", "jwt": {"value": JWT}}}},
        frozenset(),
    ),
    ("token auth misspelled", {**BASE, "vault": {"auth": {"method": "tokn", "token": VAULT_TOKEN}}}, frozenset()),
    (
        "credentials in the URLs",
        {**BASE, "sentryUrl": f"https://user:{SENTRY_TOKEN}@sentry.example.com/"},
        frozenset(),
    ),
]


@pytest.mark.parametrize(
    ("values", "secret_keys"), [row[1:] for row in LEAKY_CONFIGS], ids=[row[0] for row in LEAKY_CONFIGS]
)
def test_no_credential_appears_in_any_config_error(values: dict[str, Any], secret_keys: frozenset[str]) -> None:
    env = {**ENV, "VAULT_ADDR": f"https://root:{VAULT_TOKEN}@vault.example.com"}

    with pytest.raises(ConfigError) as caught:
        parse(values, env, secret_keys=secret_keys)

    message = str(caught.value)
    for secret in (SENTRY_TOKEN, VAULT_TOKEN, SECRET_ID, JWT):
        assert secret not in message
    assert "***" in message or "plain text" in message or "is not allowed" in message


def test_settings_repr_hides_every_credential() -> None:
    settings = parse(
        {**BASE, "sentryToken": SENTRY_TOKEN, "vault": {"auth": {"method": "approle", "roleId": "r", "secretId": SECRET_ID}}},
        secret_keys={"sentryToken", "vault"},
    )

    shown = repr(settings)
    assert SENTRY_TOKEN not in shown and SECRET_ID not in shown
    assert settings.sentry_token.reveal() == SENTRY_TOKEN
    assert str(Secret(VAULT_TOKEN)) == "Secret('***')"


# -- environment fallbacks ---------------------------------------------------------------------


def test_organization_falls_back_to_sentry_org_and_config_wins() -> None:
    env = {**ENV, "SENTRY_ORG": "from-env"}

    assert parse({"projects": ["web"]}, env).organization == "from-env"
    assert parse(BASE, env).organization == "acme"


def test_sentry_url_defaults_to_sentry_io_then_sentry_url_then_config() -> None:
    assert parse(BASE).sentry_url == "https://sentry.io/"
    env = {**ENV, "SENTRY_URL": "https://de.sentry.io"}
    assert parse(BASE, env).sentry_url == "https://de.sentry.io/"
    assert parse({**BASE, "sentryUrl": "https://sentry.example.com/self-hosted"}, env).sentry_url == (
        "https://sentry.example.com/self-hosted/"
    ), "the path prefix is kept, with one trailing slash"


def test_sentry_token_from_the_environment_names_its_source() -> None:
    settings = parse(BASE)

    assert settings.sentry_token == Secret(SENTRY_TOKEN)
    assert settings.sentry_token_source == "environment variable SENTRY_AUTH_TOKEN"


def test_a_secret_sentry_token_in_config_wins_over_the_environment() -> None:
    settings = parse({**BASE, "sentryToken": "from-config"}, secret_keys={"sentryToken"})

    assert settings.sentry_token == Secret("from-config")
    assert settings.sentry_token_source == "config 'sentry-dsn-sync:sentryToken'"


def test_vault_address_falls_back_to_vault_addr_and_config_wins() -> None:
    assert parse(BASE).vault.address == "http://127.0.0.1:8200"
    configured = parse({**BASE, "vault": {"address": "https://vault.example.com:8200/"}})
    assert configured.vault.address == "https://vault.example.com:8200"


def test_vault_namespace_falls_back_to_vault_namespace() -> None:
    assert parse(BASE).vault.namespace is None
    assert parse(BASE, {**ENV, "VAULT_NAMESPACE": "admin/platform"}).vault.namespace == "admin/platform"
    configured = parse({**BASE, "vault": {"namespace": "team-a"}}, {**ENV, "VAULT_NAMESPACE": "admin"})
    assert configured.vault.namespace == "team-a"


def test_vault_ca_cert_falls_back_to_vault_cacert(tmp_path: Path) -> None:
    env_ca = tmp_path / "env-ca.pem"
    config_ca = tmp_path / "config-ca.pem"
    env_ca.write_text("-----BEGIN CERTIFICATE-----\n")
    config_ca.write_text("-----BEGIN CERTIFICATE-----\n")

    assert parse(BASE).vault.ca_cert is None
    assert parse(BASE, {**ENV, "VAULT_CACERT": str(env_ca)}).vault.ca_cert == str(env_ca)
    configured = parse({**BASE, "vault": {"caCert": str(config_ca)}}, {**ENV, "VAULT_CACERT": str(env_ca)})
    assert configured.vault.ca_cert == str(config_ca)


@pytest.mark.parametrize(
    ("env_value", "expected"), [(None, False), ("1", True), ("true", True), ("TRUE", True), ("0", False), ("false", False)]
)
def test_vault_skip_verify_falls_back_to_vault_skip_verify(env_value: str | None, expected: bool) -> None:
    env = dict(ENV) if env_value is None else {**ENV, "VAULT_SKIP_VERIFY": env_value}

    assert parse(BASE, env).vault.skip_verify is expected


def test_skip_verify_in_config_wins_over_the_environment() -> None:
    assert parse({**BASE, "vault": {"skipVerify": False}}, {**ENV, "VAULT_SKIP_VERIFY": "1"}).vault.skip_verify is False


# -- auth methods ------------------------------------------------------------------------------


AUTH_SHAPES: list[tuple[str, dict[str, Any] | None, object]] = [
    ("no auth: a token from VAULT_TOKEN at login", None, TokenAuth()),
    ("token method without a token", {"method": "token"}, TokenAuth()),
    ("token method with an inline token", {"method": "token", "token": VAULT_TOKEN}, TokenAuth(token=Secret(VAULT_TOKEN))),
    (
        "approle with defaults",
        {"method": "approle", "roleId": "sync-role"},
        AppRoleAuth(role_id="sync-role", secret_id_env="VAULT_SECRET_ID", mount="approle"),
    ),
    (
        "approle with everything",
        {"method": "approle", "roleId": "r", "secretId": SECRET_ID, "secretIdEnv": "SYNC_SECRET_ID", "mount": "ci"},
        AppRoleAuth(role_id="r", secret_id=Secret(SECRET_ID), secret_id_env="SYNC_SECRET_ID", mount="ci"),
    ),
    (
        "jwt from an env var",
        {"method": "jwt", "role": "deploy", "jwtEnv": "CI_JOB_JWT_V2", "mount": "gitlab"},
        JwtAuth(role="deploy", jwt_env="CI_JOB_JWT_V2", mount="gitlab"),
    ),
    ("jwt inline", {"method": "jwt", "role": "deploy", "jwt": JWT}, JwtAuth(role="deploy", jwt=Secret(JWT), mount="jwt")),
    (
        "kubernetes with defaults",
        {"method": "kubernetes", "role": "sentry-sync"},
        KubernetesAuth(
            role="sentry-sync", token_path="/var/run/secrets/kubernetes.io/serviceaccount/token", mount="kubernetes"
        ),
    ),
    (
        "kubernetes with a token path and mount",
        {"method": "kubernetes", "role": "r", "tokenPath": "/tmp/token", "mount": "k8s-prod"},
        KubernetesAuth(role="r", token_path="/tmp/token", mount="k8s-prod"),
    ),
    (
        "userpass with a password from the default env var",
        {"method": "userpass", "username": "deployer"},
        UserpassAuth(username="deployer", password_env="VAULT_PASSWORD", mount="userpass"),
    ),
    (
        "userpass with everything",
        {"method": "userpass", "username": "d", "password": SECRET_ID, "passwordEnv": "DEPLOY_PW", "mount": "up"},
        UserpassAuth(username="d", password=Secret(SECRET_ID), password_env="DEPLOY_PW", mount="up"),
    ),
]


def test_cert_login_parses_with_the_client_certificate_of_the_vault_settings(tmp_path: Path) -> None:
    cert, key = tmp_path / "client.pem", tmp_path / "client-key.pem"
    cert.write_text("cert")
    key.write_text("key")
    vault = {"auth": {"method": "cert", "name": "deploy", "mount": "tls"}, "clientCert": str(cert), "clientKey": str(key)}

    settings = parse({**BASE, "vault": vault}).vault

    assert settings.auth == CertAuth(name="deploy", mount="tls")
    assert (settings.client_cert, settings.client_key) == (str(cert), str(key))


def test_the_vault_cli_tls_variables_fill_their_config_keys(tmp_path: Path) -> None:
    cert, key = tmp_path / "client.pem", tmp_path / "client-key.pem"
    cert.write_text("cert")
    key.write_text("key")
    env = {
        **ENV,
        "VAULT_CAPATH": str(tmp_path),
        "VAULT_CLIENT_CERT": str(cert),
        "VAULT_CLIENT_KEY": str(key),
        "VAULT_TLS_SERVER_NAME": "vault.internal",
    }

    vault = parse(BASE, env).vault

    assert (vault.ca_path, vault.client_cert, vault.client_key, vault.tls_server_name) == (
        str(tmp_path), str(cert), str(key), "vault.internal"
    )


def test_tls_config_keys_win_over_the_vault_cli_variables(tmp_path: Path) -> None:
    env = {**ENV, "VAULT_CAPATH": "/nonexistent", "VAULT_TLS_SERVER_NAME": "from-env"}

    vault = parse({**BASE, "vault": {"caPath": str(tmp_path), "tlsServerName": "from-config"}}, env).vault

    assert (vault.ca_path, vault.tls_server_name) == (str(tmp_path), "from-config")


@pytest.mark.parametrize(("auth", "expected"), [row[1:] for row in AUTH_SHAPES], ids=[row[0] for row in AUTH_SHAPES])
def test_each_auth_method_parses_into_its_typed_settings(auth: dict[str, Any] | None, expected: object) -> None:
    vault = {} if auth is None else {"auth": auth}

    assert parse({**BASE, "vault": vault}, secret_keys={"vault"}).vault.auth == expected


# -- valid configs -----------------------------------------------------------------------------


def test_the_full_schema_parses_into_typed_settings(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    values = {
        "organization": "acme",
        "sentryUrl": "https://sentry.example.com/sentry",
        "sentryToken": "tok",
        "projects": [
            "web",
            {"slug": "api", "keyLabel": "Rotation 2025-06"},
            {"slug": "worker", "keyId": "5f3c"},
            {"slug": "mobile", "path": "apps/mobile/sentry/"},
        ],
        "team": "platform",
        "vault": {
            "address": "https://vault.example.com:8200",
            "namespace": "admin",
            "mount": "/kv/",
            "kvVersion": "1",
            "pathTemplate": "{stack}/sentry/{organization}/{project}",
            "auth": {"method": "jwt", "role": "deploy", "jwtEnv": "CI_JOB_JWT"},
            "caCert": str(ca),
            "skipVerify": False,
            "onDelete": "retain",
        },
    }

    settings = parse(values, {}, secret_keys={"sentryToken"})

    assert settings.organization == "acme"
    assert settings.sentry_url == "https://sentry.example.com/sentry/"
    assert settings.team == "platform"
    assert settings.projects == (
        ProjectSpec(slug="web"),
        ProjectSpec(slug="api", key_label="Rotation 2025-06"),
        ProjectSpec(slug="worker", key_id="5f3c"),
        ProjectSpec(slug="mobile", path="apps/mobile/sentry"),
    )
    vault = settings.vault
    assert (vault.address, vault.namespace, vault.mount, vault.kv_version) == (
        "https://vault.example.com:8200",
        "admin",
        "kv",
        1,
    )
    assert (vault.path_template, vault.ca_cert, vault.skip_verify, vault.on_delete) == (
        "{stack}/sentry/{organization}/{project}",
        str(ca),
        False,
        "retain",
    )
    assert vault.auth == JwtAuth(role="deploy", jwt_env="CI_JOB_JWT")


def test_defaults_follow_the_design() -> None:
    vault = parse(BASE).vault

    assert (vault.mount, vault.kv_version, vault.path_template, vault.on_delete) == (
        "secret",
        2,
        DEFAULT_PATH_TEMPLATE,
        "delete",
    )
    assert vault.auth == TokenAuth()
    assert render_vault_path(vault.path_template, organization="acme", project="web", stack="dev") == "sentry/acme/web"


def test_a_team_alone_is_enough() -> None:
    settings = parse({"organization": "acme", "team": "platform"})

    assert settings.projects == ()
    assert settings.team == "platform"


def test_a_numeric_key_id_from_yaml_is_kept_as_text() -> None:
    assert parse({**BASE, "projects": [{"slug": "web", "keyId": 1234}]}).projects[0].key_id == "1234"


def test_a_template_without_project_is_fine_for_a_single_project() -> None:
    settings = parse({**BASE, "vault": {"pathTemplate": "apps/web/sentry"}})

    assert settings.vault.path_template == "apps/web/sentry"


def test_a_provider_process_may_parse_without_projects() -> None:
    assert parse({"organization": "acme"}, require_projects=False).projects == ()


def test_did_you_mean_is_offered_for_top_level_keys_in_another_spelling() -> None:
    problems = problems_of({**BASE, "sentry_token": "x", "Organisation": "acme"})

    assert "sentry_token: unknown key; did you mean 'sentryToken'?" in problems
    assert "Organisation: unknown key; did you mean 'organization'?" in problems


@pytest.mark.parametrize(
    "auth",
    [
        {"method": "token", "token": "s.plain-vault-token"},
        {"method": "approle", "roleId": "deploy", "secretId": "plain-secret-id"},
        {"method": "jwt", "role": "ci", "jwt": "eyJplain.jwt.value"},
    ],
    ids=["token", "approle", "jwt"],
)
def test_a_vault_credential_pulumi_stores_in_plain_text_is_refused(auth: dict[str, str]) -> None:
    key = next(name for name in ("token", "secretId", "jwt") if name in auth)
    problems = problems_of({**BASE, "vault": {"auth": auth}})
    assert problems == [
        f"vault.auth.{key}: stored in plain text in the stack config; remove it and run "
        f"`pulumi config set --secret --path vault.auth.{key} <value>`"
    ]
    assert auth[key] not in "\n".join(problems)


def test_the_vault_part_parses_without_any_sentry_setting() -> None:
    vault = parse_vault_settings({"vault": {"mount": "kv", "onDelete": "retain"}}, {"VAULT_ADDR": "http://127.0.0.1:8200"})
    assert (vault.mount, vault.on_delete, vault.address) == ("kv", "retain", "http://127.0.0.1:8200")


# -- dsnForms ----------------------------------------------------------------------------------


def test_dsn_forms_default_to_the_public_dsn_alone_and_a_project_list_replaces_the_stacks() -> None:
    plain = parse(BASE)
    assert plain.dsn_forms == () and plain.dsn_forms_for(plain.projects[0]) == ()

    settings = parse({
        **BASE,
        "dsnForms": ["csp", "cdn"],
        "projects": ["web", {"slug": "api", "dsnForms": ["otlp_traces"]}, {"slug": "worker", "dsnForms": []}],
    })
    web, api, worker = settings.projects
    assert settings.dsn_forms_for(web) == ("csp", "cdn")
    assert settings.dsn_forms_for(api) == ("otlp_traces",)
    assert settings.dsn_forms_for(worker) == ()
    # What the organization's catalog keeps of each key: every form some project publishes.
    assert settings.published_dsn_forms == ("csp", "cdn", "otlp_traces")
    assert plain.published_dsn_forms == ()


@pytest.mark.parametrize(
    ("forms", "expected"),
    [
        (["secret"], "dsnForms[0]: 'secret' is never published"),
        (["public"], "dsnForms[0]: 'public' is always published, as the field `dsn`"),
        (["otlp-traces"], "dsnForms[0]: 'otlp-traces' is not a DSN form; did you mean 'otlp_traces'?"),
        (["csp", "csp"], "dsnForms[1]: 'csp' is listed twice"),
        ("csp", "dsnForms: 'csp' is not a list"),
    ],
    ids=["secret", "public", "typo", "twice", "not-a-list"],
)
def test_invalid_dsn_forms_are_refused_naming_the_entry(forms: Any, expected: str) -> None:
    (problem,) = problems_of({**BASE, "dsnForms": forms})
    assert problem.startswith(expected)


def test_a_projects_invalid_dsn_forms_name_the_project_entry() -> None:
    problems = problems_of({**BASE, "projects": [{"slug": "web", "dsnForms": ["cnd"]}]})
    assert problems == ["projects[0].dsnForms[0]: 'cnd' is not a DSN form; did you mean 'cdn'?"]


# -- settings a program builds itself: the connection its provider parses again ------------------


def test_settings_from_a_dict_carry_the_non_secret_connection_values_and_credential_names() -> None:
    settings = parse(
        {
            **BASE,
            "sentryUrl": "https://de.sentry.io/",
            "sentryTokenEnv": "EU_SENTRY_TOKEN",
            "vault": {"address": "http://eu:8200", "mount": "kv", "auth": {"tokenEnv": "EU_VAULT_TOKEN"}},
        },
        {"EU_SENTRY_TOKEN": "eu-token"},
    )

    assert settings.connection == {
        "sentryUrl": "https://de.sentry.io/",
        "sentryTokenEnv": "EU_SENTRY_TOKEN",
        "vault": {"address": "http://eu:8200", "auth": {"tokenEnv": "EU_VAULT_TOKEN"}},
    }
    assert settings.literal_credentials == ()
    assert settings.sentry_token.reveal() == "eu-token"
    assert settings.sentry_token_source == "environment variable EU_SENTRY_TOKEN"


def test_credentials_given_as_values_are_named_and_left_out_of_the_connection() -> None:
    settings = parse(
        {**BASE, "sentryToken": "literal-token", "vault": {"auth": {"method": "approle", "roleId": "r", "secretId": "s"}}},
        secret_keys=("sentryToken", "vault"),
    )

    assert settings.literal_credentials == ("sentryToken", "vault.auth.secretId")
    assert "literal-token" not in repr(settings.connection) and "'s'" not in repr(settings.connection)


def test_a_named_token_variable_that_is_unset_is_refused_without_falling_back() -> None:
    problems = problems_of({**BASE, "sentryTokenEnv": "EU_SENTRY_TOKEN"})

    assert problems == [
        "sentryTokenEnv: the environment variable EU_SENTRY_TOKEN it names is not set; export the Sentry "
        "token in it (scopes: project:read, org:read)"
    ]
