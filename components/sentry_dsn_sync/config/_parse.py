"""Stack configuration and environment, parsed into typed, validated settings.

The program parses the stack config up front so that every invalid value fails
`pulumi preview` before anything is read or written; the dynamic providers parse
the same config again (they run in another process) to find credentials at call
time. Both go through :func:`parse_settings`, so they can never disagree.

Every problem is reported as ``<key>: <the bad value> ...; <what is allowed>``
and all of them at once, so one failed preview shows everything to fix. No
message ever quotes a credential: values of credential keys are never echoed.
"""

from __future__ import annotations

import difflib
import os
import string
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from sentry_dsn_sync._redaction import redacted_url
from sentry_dsn_sync._urls import base_url_problem
from sentry_dsn_sync.config._settings import (
    AUTH_KEYS,
    CONFIG_NAMESPACE,
    DEFAULT_KV_VERSION,
    DEFAULT_MOUNT,
    DEFAULT_ON_DELETE,
    DEFAULT_PATH_TEMPLATE,
    DEFAULT_SENTRY_URL,
    DEFAULT_SECRET_ID_ENV,
    DSN_FORMS,
    ENV_FALLBACKS,
    KUBERNETES_TOKEN_PATH,
    ON_DELETE_CHOICES,
    PATH_PLACEHOLDERS,
    PROJECT_KEYS,
    TOP_LEVEL_KEYS,
    VAULT_KEYS,
    DEFAULT_PASSWORD_ENV,
    AppRoleAuth,
    CertAuth,
    JwtAuth,
    KubernetesAuth,
    OnDelete,
    ProjectSpec,
    Secret,
    Settings,
    TokenAuth,
    UserpassAuth,
    VaultAuth,
    VaultSettings,
    render_vault_path,
)
from sentry_dsn_sync.errors import ConfigError
from sentry_dsn_sync.paths import SLUG_RULE, is_slug, path_problem

__all__ = ["SentryAccess", "parse_sentry_flags", "parse_settings", "parse_vault_settings"]

# What Go's strconv.ParseBool accepts, so VAULT_SKIP_VERIFY means here what it means to the Vault CLI.
_TRUE = ("1", "t", "true", "yes", "on")
_FALSE = ("0", "f", "false", "no", "off")


class _Problems:
    """Collects every invalid value so that one run reports them all."""

    def __init__(self, heading: str = f"invalid configuration in namespace '{CONFIG_NAMESPACE}'") -> None:
        self.heading = heading
        self.messages: list[str] = []

    def add(self, message: str) -> None:
        self.messages.append(message)

    def raise_if_any(self) -> None:
        if self.messages:
            lines = "\n".join(f"  - {m}" for m in self.messages)
            raise ConfigError(f"{self.heading}:\n{lines}")


@dataclass(frozen=True)
class _Sourced:
    """A text value and the name to blame for it: the config key, or the env var it fell back to."""

    value: str
    name: str


def parse_settings(
    values: Mapping[str, Any],
    env: Mapping[str, str],
    *,
    stack: str,
    secret_keys: Iterable[str] = (),
    require_projects: bool = True,
) -> Settings:
    """Turn raw config values (already JSON-decoded) and the environment into settings.

    `secret_keys` names the top-level keys that Pulumi holds encrypted; a
    `sentryToken` outside it was stored in plain text and is refused.
    `require_projects=False` lets a provider process, which sees only part of
    the program's view, skip the "what to publish" checks.
    Raises :class:`ConfigError` listing every problem found.
    """
    problems = _Problems()
    # Pulumi.yaml declares the text keys with an empty default, so that Pulumi
    # does not demand them: empty means unset, and the environment fallback applies.
    values = {key: value for key, value in values.items() if value != ""}
    _reject_unknown(values, TOP_LEVEL_KEYS, "", problems)

    organization = _parse_organization(values, env, problems)
    sentry_url = _parse_sentry_url(values, env, problems)
    token, token_source = _parse_sentry_token(values, env, set(secret_keys), problems)
    team = _parse_team(values, problems)
    # An invalid team is reported on its own; it still counts as "a team was given".
    need_projects = require_projects and values.get("team") is None
    projects = _parse_projects(values.get("projects"), need_projects, problems)
    dsn_forms = _parse_dsn_forms(values.get("dsnForms"), "dsnForms", problems) or ()
    vault = _parse_vault(values.get("vault"), env, problems, encrypted="vault" in set(secret_keys))
    if vault is not None and organization:
        _check_paths(projects, team, vault, organization, stack, problems)

    problems.raise_if_any()
    assert vault is not None and token is not None
    connection, literal_credentials = _connection(values)
    return Settings(
        organization=organization,
        sentry_url=sentry_url,
        sentry_token=token,
        sentry_token_source=token_source,
        projects=projects,
        team=team,
        vault=vault,
        dsn_forms=dsn_forms,
        connection=connection,
        literal_credentials=literal_credentials,
    )


# Given values that say how to reach Sentry and Vault; the others travel as each resource's own inputs.
_CONNECTION_KEYS = ("sentryUrl", "sentryTokenEnv")
# Where the secret lives and what happens to it are each resource's inputs; every other vault key connects.
_PER_RESOURCE_VAULT_KEYS = ("mount", "kvVersion", "pathTemplate", "onDelete")
_VAULT_CONNECTION_KEYS = tuple(key for key in VAULT_KEYS if key not in _PER_RESOURCE_VAULT_KEYS)
_CREDENTIAL_KEYS = {"": ("sentryToken",), "vault.auth.": ("token", "secretId", "jwt", "password")}


def _connection(values: Mapping[str, Any]) -> tuple[dict[str, Any], tuple[str, ...]]:
    """The connection values a provider can parse again (see `Settings.connection`), and the literal credentials."""
    connection = {key: values[key] for key in _CONNECTION_KEYS if key in values}
    literal = [key for key in _CREDENTIAL_KEYS[""] if values.get(key) is not None]
    vault = values.get("vault")
    if isinstance(vault, Mapping):
        given = {key: vault[key] for key in _VAULT_CONNECTION_KEYS if key in vault}
        auth = given.get("auth")
        if isinstance(auth, Mapping):
            credentials = _CREDENTIAL_KEYS["vault.auth."]
            literal += [f"vault.auth.{key}" for key in credentials if auth.get(key) is not None]
            given["auth"] = {key: value for key, value in auth.items() if key not in credentials}
        if given:
            connection["vault"] = given
    return connection, tuple(literal)


# -- helpers shared by every section --------------------------------------------------------------


def _normalized(key: str) -> str:
    return key.replace("_", "").replace("-", "").lower()


def _did_you_mean(value: str, allowed: Iterable[str]) -> str | None:
    """The allowed name the user most likely meant: same letters in another case or spelling first."""
    allowed = tuple(allowed)
    for candidate in allowed:
        if _normalized(candidate) == _normalized(value):
            return candidate
    close = difflib.get_close_matches(value, allowed, n=1)
    return close[0] if close else None


def _reject_unknown(obj: Mapping[str, Any], allowed: Iterable[str], where: str, problems: _Problems) -> None:
    allowed = tuple(allowed)
    for key in obj:
        if key in allowed:
            continue
        guess = _did_you_mean(str(key), allowed)
        hint = f"did you mean '{guess}'?" if guess else f"allowed keys: {', '.join(allowed)}"
        problems.add(f"{where}{named_key(key)}: unknown key; {hint}")


def named_key(key: Any) -> str:
    """A config key as a message names it: quoted when blank or holding spaces, line breaks or ':'."""
    plain = isinstance(key, str) and key.isprintable() and key and not any(c.isspace() or c == ":" for c in key)
    return str(key) if plain else repr(key)


def _kind(value: Any) -> str:
    """A value's JSON type name, for messages that must not echo the value itself."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _string(obj: Mapping[str, Any], key: str, where: str, problems: _Problems) -> str | None:
    """The trimmed string at `key`, None when unset; a non-string or blank value is a problem."""
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        problems.add(f"{where}{key}: {value!r} must be a non-empty string")
        return None
    return value.strip()


def _sourced(
    obj: Mapping[str, Any], key: str, where: str, env: Mapping[str, str], problems: _Problems
) -> _Sourced | None:
    """The value of `key`, else of its environment fallback, with the name to blame in messages."""
    value = _string(obj, key, where, problems)
    if value is not None:
        return _Sourced(value, f"{where}{key}")
    if key not in obj:
        env_name = ENV_FALLBACKS[f"{where}{key}"]
        env_value = env.get(env_name, "").strip()
        if env_value:
            return _Sourced(env_value, f"{where}{key} (from {env_name})")
    return None


def _check_url(raw: _Sourced, example: str, problems: _Problems) -> bool:
    problem = base_url_problem(raw.value)
    if problem is not None:
        problems.add(f"{raw.name}: {redacted_url(raw.value)!r} {problem}; use e.g. {example}")
    return problem is None


# -- Sentry ------------------------------------------------------------------------------------


def _parse_organization(values: Mapping[str, Any], env: Mapping[str, str], problems: _Problems) -> str:
    raw = _sourced(values, "organization", "", env, problems)
    if raw is None:
        if "organization" not in values:
            problems.add(
                "organization: missing; set it with `pulumi config set organization <org-slug>` "
                "or the SENTRY_ORG environment variable"
            )
        return ""
    return _checked_organization(raw, problems)


def _checked_organization(raw: _Sourced, problems: _Problems) -> str:
    if not is_slug(raw.value):
        problems.add(f"{raw.name}: {raw.value!r} is not a Sentry slug ({SLUG_RULE})")
        return ""
    return raw.value


def _parse_team(values: Mapping[str, Any], problems: _Problems) -> str | None:
    team = _string(values, "team", "", problems)
    if team is not None and not is_slug(team):
        problems.add(f"team: {team!r} is not a Sentry slug ({SLUG_RULE})")
        return None
    return team


def _parse_sentry_url(values: Mapping[str, Any], env: Mapping[str, str], problems: _Problems) -> str:
    raw = _sourced(values, "sentryUrl", "", env, problems) or _Sourced(DEFAULT_SENTRY_URL, "sentryUrl")
    return _checked_sentry_url(raw, problems)


def _checked_sentry_url(raw: _Sourced, problems: _Problems) -> str:
    example = "https://sentry.io/ or https://sentry.example.com/prefix/"
    if not _check_url(raw, example, problems):
        return raw.value
    # One trailing slash, so that relative API paths join below any path prefix.
    return raw.value.rstrip("/") + "/"


def _parse_sentry_token(
    values: Mapping[str, Any], env: Mapping[str, str], secret_keys: set[str], problems: _Problems
) -> tuple[Secret | None, str]:
    raw = values.get("sentryToken")
    if raw not in (None, ""):
        if "sentryToken" not in secret_keys:
            problems.add(
                "sentryToken: stored in plain text in the stack config; remove it with "
                "`pulumi config rm sentryToken` and run `pulumi config set --secret sentryToken <token>`"
            )
            return None, ""
        if not isinstance(raw, str) or not raw.strip():
            problems.add(f"sentryToken: {_kind(raw)} is not a token; it must be a string")
            return None, ""
        return Secret(raw.strip()), f"config '{CONFIG_NAMESPACE}:sentryToken'"
    env_name = _string(values, "sentryTokenEnv", "", problems)
    if env_name is not None:
        if env.get(env_name, "").strip():
            return Secret(env[env_name].strip()), f"environment variable {env_name}"
        problems.add(
            f"sentryTokenEnv: the environment variable {env_name} it names is not set; export the "
            "Sentry token in it (scopes: project:read, org:read)"
        )
        return None, ""
    if env.get("SENTRY_AUTH_TOKEN", "").strip():
        return Secret(env["SENTRY_AUTH_TOKEN"].strip()), "environment variable SENTRY_AUTH_TOKEN"
    problems.add(
        "sentryToken: missing; run `pulumi config set --secret sentryToken <token>` "
        "or set SENTRY_AUTH_TOKEN (scopes: project:read, org:read)"
    )
    return None, ""


@dataclass(frozen=True)
class SentryAccess:
    """What a command needs to read Sentry on its own: the report's flags and environment, checked."""

    organization: str
    sentry_url: str
    token: Secret
    token_source: str


def parse_sentry_flags(*, organization: str | None, sentry_url: str | None, env: Mapping[str, str]) -> SentryAccess:
    """`--organization` and `--sentry-url`, else the environment variables the stack reads, by the stack's rules.

    The token comes from SENTRY_AUTH_TOKEN only: a flag would put it in the
    shell history and the process list. Messages name the flag or variable.
    """
    problems = _Problems("invalid command line")

    def sourced(flag: str, given: str | None, env_name: str) -> _Sourced | None:
        if given is not None and given.strip():
            return _Sourced(given.strip(), flag)
        if env.get(env_name, "").strip():
            return _Sourced(env[env_name].strip(), f"{flag} (from {env_name})")
        return None

    raw_organization = sourced("--organization", organization, "SENTRY_ORG")
    checked_organization = ""
    if raw_organization is None:
        problems.add("--organization: missing; pass --organization <org-slug> or set SENTRY_ORG")
    else:
        checked_organization = _checked_organization(raw_organization, problems)
    url = _checked_sentry_url(
        sourced("--sentry-url", sentry_url, "SENTRY_URL") or _Sourced(DEFAULT_SENTRY_URL, "--sentry-url"), problems
    )
    token = env.get("SENTRY_AUTH_TOKEN", "").strip()
    if not token:
        problems.add("SENTRY_AUTH_TOKEN is not set; export a Sentry auth token with the project:read and org:read scopes")
    problems.raise_if_any()
    return SentryAccess(checked_organization, url, Secret(token), "environment variable SENTRY_AUTH_TOKEN")


# -- projects ----------------------------------------------------------------------------------


def _parse_projects(raw: Any, need_projects: bool, problems: _Problems) -> tuple[ProjectSpec, ...]:
    if raw is None:
        if need_projects:
            problems.add("projects: missing; list project slugs, or set `team` to publish every project of a team")
        return ()
    if not isinstance(raw, list):
        problems.add(
            f"projects: {raw!r} is not a list; give a list of slugs or {{slug, keyLabel, keyId, path}} objects"
        )
        return ()
    if not raw and need_projects:
        problems.add("projects: [] is empty; add at least one project slug, or set `team`")
    specs: list[ProjectSpec] = []
    first_index: dict[str, int] = {}
    for index, item in enumerate(raw):
        spec = _parse_project(item, f"projects[{index}]", problems)
        if spec is None:
            continue
        if spec.slug in first_index:
            problems.add(
                f"projects[{index}]: {spec.slug!r} is already listed at projects[{first_index[spec.slug]}]; "
                "keep one entry per project"
            )
            continue
        first_index[spec.slug] = index
        specs.append(spec)
    return tuple(specs)


def _parse_project(item: Any, where: str, problems: _Problems) -> ProjectSpec | None:
    if isinstance(item, str):
        slug = item.strip()
        if not is_slug(slug):
            problems.add(f"{where}: {item!r} is not a Sentry slug ({SLUG_RULE})")
            return None
        return ProjectSpec(slug=slug)
    if not isinstance(item, dict):
        problems.add(f"{where}: {item!r} is neither a slug nor an object like {{slug: web, keyLabel: Default}}")
        return None
    _reject_unknown(item, PROJECT_KEYS, f"{where}.", problems)
    if "slug" not in item:
        problems.add(f"{where}.slug: missing; every project object needs the project's slug")
        return None
    slug = item["slug"].strip() if isinstance(item["slug"], str) else ""
    if not is_slug(slug):
        problems.add(f"{where}.slug: {item['slug']!r} is not a Sentry slug ({SLUG_RULE})")
        return None
    key_label = _string(item, "keyLabel", f"{where}.", problems)
    key_id = _parse_key_id(item, where, problems)
    if key_label is not None and key_id is not None:
        problems.add(
            f"{where}: both keyId {key_id!r} and keyLabel {key_label!r} are set; "
            "keep one (keyId picks one key, keyLabel the active key with that label)"
        )
    return ProjectSpec(
        slug=slug,
        key_label=key_label,
        key_id=key_id,
        path=_parse_project_path(item, where, problems),
        dsn_forms=_parse_dsn_forms(item.get("dsnForms"), f"{where}.dsnForms", problems),
    )


def _parse_dsn_forms(raw: Any, where: str, problems: _Problems) -> tuple[str, ...] | None:
    """A list of DSN form names, checked; None when unset (or invalid, which is reported)."""
    if raw is None:
        return None
    if not isinstance(raw, list):
        problems.add(f"{where}: {raw!r} is not a list; give a list such as [csp, cdn]")
        return None
    forms: list[str] = []
    for index, item in enumerate(raw):
        name = item.strip() if isinstance(item, str) else item
        if name == "secret":
            problems.add(
                f"{where}[{index}]: 'secret' is never published (it carries the key's secret part); "
                f"allowed: {', '.join(DSN_FORMS)}"
            )
        elif name == "public":
            problems.add(f"{where}[{index}]: 'public' is always published, as the field `dsn`; remove it")
        elif name not in DSN_FORMS:
            guess = _did_you_mean(str(name), DSN_FORMS)
            hint = f"did you mean '{guess}'?" if guess else f"allowed: {', '.join(DSN_FORMS)}"
            problems.add(f"{where}[{index}]: {item!r} is not a DSN form; {hint}")
        elif name in forms:
            problems.add(f"{where}[{index}]: {name!r} is listed twice; keep one")
        else:
            forms.append(name)
    return tuple(forms)


def _parse_key_id(item: Mapping[str, Any], where: str, problems: _Problems) -> str | None:
    value = item.get("keyId")
    # YAML reads an unquoted all-digit id as a number; the id is the same either way.
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return _string(item, "keyId", f"{where}.", problems)


def _parse_project_path(item: Mapping[str, Any], where: str, problems: _Problems) -> str | None:
    path = _string(item, "path", f"{where}.", problems)
    if path is None:
        return None
    problem = path_problem(path) or ("has a {placeholder}" if "{" in path or "}" in path else None)
    if problem is not None:
        problems.add(
            f"{where}.path: {path!r} is not a usable Vault path: it {problem}; give the path below the mount, "
            "without placeholders, '.' or '..' segments, e.g. apps/web/sentry"
        )
        return None
    return path.rstrip("/")


# -- vault -------------------------------------------------------------------------------------


def parse_vault_settings(
    values: Mapping[str, Any], env: Mapping[str, str], *, secret_keys: Iterable[str] = ()
) -> VaultSettings:
    """Only the Vault part of the settings.

    Deleting or refreshing a secret needs Vault alone; a `pulumi destroy` run
    without the Sentry token in its environment must still be able to do it.
    """
    problems = _Problems()
    vault = _parse_vault(values.get("vault"), env, problems, encrypted="vault" in set(secret_keys))
    problems.raise_if_any()
    assert vault is not None
    return vault


def _parse_vault(raw: Any, env: Mapping[str, str], problems: _Problems, *, encrypted: bool) -> VaultSettings | None:
    raw = {} if raw is None else raw
    if not isinstance(raw, dict):
        # Not echoed: a misplaced vault value may well be a token.
        problems.add(
            f"vault: {_kind(raw)} is not allowed here; it must be an object like "
            "{address, mount, kvVersion, pathTemplate, auth} (see docs/configuration.md)"
        )
        return None
    _reject_unknown(raw, VAULT_KEYS, "vault.", problems)
    namespace = _sourced(raw, "namespace", "vault.", env, problems)
    ca_cert = _parse_local_path(
        raw, env, problems, "caCert", present=os.path.exists, otherwise="does not exist; give the path of a PEM CA bundle"
    )
    client_cert, client_key = _parse_client_cert(raw, env, problems)
    tls_server_name = _sourced(raw, "tlsServerName", "vault.", env, problems)
    auth = _parse_auth(raw.get("auth"), problems, encrypted=encrypted)
    if isinstance(auth, CertAuth) and client_cert is None and "clientCert" not in raw:
        problems.add(
            "vault.auth: the cert method logs in with the TLS client certificate; set vault.clientCert and "
            "vault.clientKey (or VAULT_CLIENT_CERT and VAULT_CLIENT_KEY)"
        )
    return VaultSettings(
        address=_parse_vault_address(raw, env, problems),
        namespace=namespace.value.strip("/") if namespace else None,
        mount=_parse_mount(raw, problems),
        kv_version=_parse_kv_version(raw, problems),
        path_template=_parse_template(raw, problems),
        auth=auth,
        ca_cert=ca_cert,
        ca_path=_parse_local_path(
            raw,
            env,
            problems,
            "caPath",
            present=os.path.isdir,
            otherwise="is not a directory; give a directory of PEM CA certificates",
        ),
        client_cert=client_cert,
        client_key=client_key,
        tls_server_name=tls_server_name.value if tls_server_name else None,
        skip_verify=_parse_skip_verify(raw, env, problems),
        on_delete=_parse_on_delete(raw, problems),
    )


def _parse_vault_address(raw: Mapping[str, Any], env: Mapping[str, str], problems: _Problems) -> str:
    address = _sourced(raw, "address", "vault.", env, problems)
    if address is None:
        if "address" not in raw:
            problems.add("vault.address: missing; set `vault.address` or the VAULT_ADDR environment variable")
        return ""
    if not _check_url(address, "https://vault.example.com:8200", problems):
        return ""
    return address.value.rstrip("/")


def _parse_mount(raw: Mapping[str, Any], problems: _Problems) -> str:
    mount = _string(raw, "mount", "vault.", problems)
    if mount is None:
        return DEFAULT_MOUNT
    stripped = mount.strip("/")
    problem = path_problem(stripped)
    if problem is not None:
        problems.add(f"vault.mount: {mount!r} is not a mount path: it {problem}; give the KV mount's path, e.g. secret")
        return DEFAULT_MOUNT
    return stripped


def _parse_kv_version(raw: Mapping[str, Any], problems: _Problems) -> Literal[1, 2]:
    value = raw.get("kvVersion", DEFAULT_KV_VERSION)
    number = int(value) if isinstance(value, str) and value.strip() in ("1", "2") else value
    # bool is an int in Python: `true` must not pass for KV v1.
    if isinstance(number, bool) or number not in (1, 2):
        problems.add(f"vault.kvVersion: {value!r} is not supported; allowed: 1, 2")
        return DEFAULT_KV_VERSION
    return 1 if number == 1 else 2


def _parse_on_delete(raw: Mapping[str, Any], problems: _Problems) -> OnDelete:
    value = raw.get("onDelete", DEFAULT_ON_DELETE)
    for choice in ON_DELETE_CHOICES:
        if value == choice:
            return choice
    guess = _did_you_mean(str(value), ON_DELETE_CHOICES)
    hint = f"; did you mean '{guess}'?" if guess else ""
    problems.add(f"vault.onDelete: {value!r} is not one of {', '.join(ON_DELETE_CHOICES)}{hint}")
    return DEFAULT_ON_DELETE


def _parse_local_path(
    raw: Mapping[str, Any],
    env: Mapping[str, str],
    problems: _Problems,
    key: str,
    *,
    present: Callable[[str], bool],
    otherwise: str,
) -> str | None:
    """`vault.<key>` (or its variable) as a local path that `present` accepts, else a problem ending `otherwise`."""
    given = _sourced(raw, key, "vault.", env, problems)
    if given is None:
        return None
    # Checked here so a typo fails before any request, not as a confusing TLS error later.
    if not present(given.value):
        problems.add(f"{given.name}: {given.value!r} {otherwise}")
        return None
    return given.value


def _parse_client_cert(
    raw: Mapping[str, Any], env: Mapping[str, str], problems: _Problems
) -> tuple[str | None, str | None]:
    """The client certificate and its key, as file paths: both or neither, as TLS needs them."""
    cert = _sourced(raw, "clientCert", "vault.", env, problems)
    key = _sourced(raw, "clientKey", "vault.", env, problems)
    for given in (cert, key):
        if given is not None and not os.path.isfile(given.value):
            problems.add(f"{given.name}: {given.value!r} does not exist; give the path of a PEM file")
            return None, None
    if cert is not None and key is not None:
        return cert.value, key.value
    if cert is not None:
        problems.add(f"{cert.name}: set without vault.clientKey (or VAULT_CLIENT_KEY); TLS needs both")
    if key is not None:
        problems.add(f"{key.name}: set without vault.clientCert (or VAULT_CLIENT_CERT); TLS needs both")
    return None, None


def _parse_skip_verify(raw: Mapping[str, Any], env: Mapping[str, str], problems: _Problems) -> bool:
    value: Any = raw.get("skipVerify")
    name = "vault.skipVerify"
    if value is None:
        value, name = env.get("VAULT_SKIP_VERIFY", ""), "vault.skipVerify (from VAULT_SKIP_VERIFY)"
        if not value.strip():
            return False
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    problems.add(f"{name}: {value!r} is not a boolean; allowed: true, false")
    return False


def _parse_template(raw: Mapping[str, Any], problems: _Problems) -> str:
    template = _string(raw, "pathTemplate", "vault.", problems)
    if template is None:
        return DEFAULT_PATH_TEMPLATE
    allowed = ", ".join("{" + p + "}" for p in PATH_PLACEHOLDERS)
    try:
        fields = [(name, spec, conv) for _, name, spec, conv in string.Formatter().parse(template) if name is not None]
    except ValueError as exc:
        problems.add(f"vault.pathTemplate: {template!r} is malformed ({exc}); placeholders look like {{project}}")
        return DEFAULT_PATH_TEMPLATE
    valid = True
    for name, spec, conv in fields:
        if name not in PATH_PLACEHOLDERS:
            problems.add(f"vault.pathTemplate: unknown placeholder {{{name}}} in {template!r}; allowed: {allowed}")
            valid = False
        elif spec or conv:
            problems.add(
                f"vault.pathTemplate: placeholder {{{name}}} in {template!r} has a format spec or conversion; "
                f"write plain {{{name}}}"
            )
            valid = False
    if not valid:
        return DEFAULT_PATH_TEMPLATE
    # Placeholders stand for slugs, which hold no '/' or '.', so a sample rendering
    # shows every segment the template itself contributes.
    problem = path_problem(render_vault_path(template, organization="o", project="p", stack="s"))
    if problem is not None:
        problems.add(
            f"vault.pathTemplate: {template!r} is not a usable Vault path: it {problem}; "
            f"give a path below the mount, e.g. {DEFAULT_PATH_TEMPLATE!r}"
        )
        return DEFAULT_PATH_TEMPLATE
    return template


def _parse_auth(raw: Any, problems: _Problems, *, encrypted: bool) -> VaultAuth:
    if raw is None:
        return TokenAuth()
    if not isinstance(raw, dict):
        # Never echoed: a string here is most likely the token itself.
        problems.add(
            f"vault.auth: {_kind(raw)} is not allowed here; it must be an object like "
            "{method: approle, roleId: ..., secretIdEnv: ...}"
        )
        return TokenAuth()
    method = raw.get("method", "token")
    if method not in AUTH_KEYS:
        guess = _did_you_mean(str(method), AUTH_KEYS)
        hint = f"; did you mean '{guess}'?" if guess else ""
        problems.add(f"vault.auth.method: {method!r} is not one of {', '.join(AUTH_KEYS)}{hint}")
        return TokenAuth()
    _reject_unknown(raw, AUTH_KEYS[method], "vault.auth.", problems)
    where = "vault.auth."
    mount = _string(raw, "mount", where, problems)
    if method == "token":
        return TokenAuth(
            token=_credential(raw, "token", problems, encrypted=encrypted),
            token_env=_string(raw, "tokenEnv", where, problems),
        )
    if method == "kubernetes":
        return KubernetesAuth(
            role=_required(raw, "role", method, problems),
            token_path=_string(raw, "tokenPath", where, problems) or KUBERNETES_TOKEN_PATH,
            mount=mount or "kubernetes",
        )
    if method == "cert":
        return CertAuth(name=_string(raw, "name", where, problems), mount=mount or "cert")
    if method == "userpass":
        return UserpassAuth(
            username=_required(raw, "username", method, problems),
            password=_credential(raw, "password", problems, encrypted=encrypted),
            password_env=_string(raw, "passwordEnv", where, problems) or DEFAULT_PASSWORD_ENV,
            mount=mount or "userpass",
        )
    if method == "approle":
        return AppRoleAuth(
            role_id=_required(raw, "roleId", method, problems),
            secret_id=_credential(raw, "secretId", problems, encrypted=encrypted),
            secret_id_env=_string(raw, "secretIdEnv", where, problems) or DEFAULT_SECRET_ID_ENV,
            mount=mount or "approle",
        )
    jwt = _credential(raw, "jwt", problems, encrypted=encrypted)
    jwt_env = _string(raw, "jwtEnv", where, problems)
    if jwt is None and jwt_env is None and "jwt" not in raw and "jwtEnv" not in raw:
        problems.add(
            "vault.auth: the jwt method needs `jwtEnv` (the environment variable holding the token, "
            "e.g. VAULT_JWT) or `jwt` set with `pulumi config set --secret --path vault.auth.jwt`"
        )
    return JwtAuth(role=_required(raw, "role", method, problems), jwt=jwt, jwt_env=jwt_env, mount=mount or "jwt")


def _required(raw: Mapping[str, Any], key: str, method: str, problems: _Problems) -> str:
    value = _string(raw, key, "vault.auth.", problems)
    if value is None and key not in raw:
        problems.add(f"vault.auth.{key}: missing; the {method} method needs it")
    return value or ""


def _credential(raw: Mapping[str, Any], key: str, problems: _Problems, *, encrypted: bool) -> Secret | None:
    value = raw.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        # The value is a credential (or meant to be one): only its type is shown.
        problems.add(f"vault.auth.{key}: {_kind(value)} is not allowed; it must be a non-empty string")
        return None
    if not encrypted:
        problems.add(
            f"vault.auth.{key}: stored in plain text in the stack config; remove it and run "
            f"`pulumi config set --secret --path vault.auth.{key} <value>`"
        )
        return None
    return Secret(value.strip())


# -- cross-checks ------------------------------------------------------------------------------


def _check_paths(
    projects: tuple[ProjectSpec, ...],
    team: str | None,
    vault: VaultSettings,
    organization: str,
    stack: str,
    problems: _Problems,
) -> None:
    """Two projects sharing a secret would overwrite each other on every run: refuse it up front."""
    owners: dict[str, str] = {}
    for spec in projects:
        path = spec.path or render_vault_path(
            vault.path_template, organization=organization, project=spec.slug, stack=stack
        )
        if path in owners:
            if spec.path is None and "{project}" not in vault.path_template:
                problems.add(
                    f"vault.pathTemplate: {vault.path_template!r} maps both {owners[path]!r} and {spec.slug!r} "
                    f"to {vault.mount}/{path}; include {{project}}, e.g. {DEFAULT_PATH_TEMPLATE!r}"
                )
            else:
                problems.add(
                    f"projects: {owners[path]!r} and {spec.slug!r} both map to {vault.mount}/{path}; "
                    "give one of them another `path`"
                )
            continue
        owners[path] = spec.slug
    if team is not None and "{project}" not in vault.path_template:
        # The team's projects are only known after reading Sentry; without {project} they would collide.
        problems.add(
            f"vault.pathTemplate: {vault.path_template!r} has no {{project}}, so the projects of team "
            f"{team!r} would share one secret; include {{project}}, e.g. {DEFAULT_PATH_TEMPLATE!r}"
        )
