"""Stack configuration and environment, parsed once into typed, validated settings.

The program parses the stack config up front so that every invalid value fails
`pulumi preview` before anything is read or written; the dynamic providers parse
the same config again (they run in another process) to find credentials at call
time. Both go through :func:`parse_settings`, so they can never disagree.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

from components.errors import ConfigError

__all__ = [
    "CONFIG_NAMESPACE",
    "AppRoleAuth",
    "JwtAuth",
    "KubernetesAuth",
    "OnDelete",
    "ProjectSpec",
    "Secret",
    "Settings",
    "TokenAuth",
    "VaultAuth",
    "VaultSettings",
    "decode_namespace",
    "load_settings",
    "parse_settings",
    "render_vault_path",
]

CONFIG_NAMESPACE = "sentry-dsn-sync"
DEFAULT_SENTRY_URL = "https://sentry.io/"
DEFAULT_PATH_TEMPLATE = "sentry/{organization}/{project}"
PATH_PLACEHOLDERS = ("organization", "project", "stack")
KUBERNETES_TOKEN_PATH = "/var/run/secrets/kubernetes.io/serviceaccount/token"

# Sentry slugs are lowercase letters, digits, '-' and '_', not all digits, at most 50 long.
_SLUG = re.compile(r"^(?![0-9]+$)[a-z0-9_-]{1,50}$")

OnDelete = Literal["delete", "destroy", "retain"]
ON_DELETE_CHOICES: tuple[OnDelete, ...] = ("delete", "destroy", "retain")

TOP_LEVEL_KEYS = ("organization", "sentryUrl", "sentryToken", "projects", "team", "vault")
PROJECT_KEYS = ("slug", "keyLabel", "keyId", "path")
VAULT_KEYS = (
    "address",
    "namespace",
    "mount",
    "kvVersion",
    "pathTemplate",
    "auth",
    "caCert",
    "skipVerify",
    "onDelete",
)
AUTH_KEYS = {
    "token": ("method", "token"),
    "approle": ("method", "roleId", "secretId", "secretIdEnv", "mount"),
    "jwt": ("method", "role", "jwt", "jwtEnv", "mount"),
    "kubernetes": ("method", "role", "tokenPath", "mount"),
}


class Secret:
    """A credential that never shows itself in a repr, a log line or a traceback."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True)
class ProjectSpec:
    """One Sentry project to publish, and how to choose its key."""

    slug: str
    key_label: str | None = None
    key_id: str | None = None
    path: str | None = None


@dataclass(frozen=True)
class TokenAuth:
    """A Vault token from config, else `VAULT_TOKEN`, else `~/.vault-token` (read at call time)."""

    token: Secret | None = None
    method: Literal["token"] = "token"


@dataclass(frozen=True)
class AppRoleAuth:
    role_id: str
    secret_id: Secret | None = None
    secret_id_env: str = "VAULT_SECRET_ID"
    mount: str = "approle"
    method: Literal["approle"] = "approle"


@dataclass(frozen=True)
class JwtAuth:
    """JWT/OIDC login, the way CI pipelines prove who they are to Vault."""

    role: str
    jwt: Secret | None = None
    jwt_env: str | None = None
    mount: str = "jwt"
    method: Literal["jwt"] = "jwt"


@dataclass(frozen=True)
class KubernetesAuth:
    role: str
    token_path: str = KUBERNETES_TOKEN_PATH
    mount: str = "kubernetes"
    method: Literal["kubernetes"] = "kubernetes"


VaultAuth = TokenAuth | AppRoleAuth | JwtAuth | KubernetesAuth


@dataclass(frozen=True)
class VaultSettings:
    address: str
    namespace: str | None = None
    mount: str = "secret"
    kv_version: Literal[1, 2] = 2
    path_template: str = DEFAULT_PATH_TEMPLATE
    auth: VaultAuth = field(default_factory=TokenAuth)
    ca_cert: str | None = None
    skip_verify: bool = False
    on_delete: OnDelete = "delete"


@dataclass(frozen=True)
class Settings:
    organization: str
    sentry_url: str
    sentry_token: Secret
    # Where the token came from, so an auth error can name it without showing it.
    sentry_token_source: str
    projects: tuple[ProjectSpec, ...]
    team: str | None
    vault: VaultSettings


def render_vault_path(template: str, *, organization: str, project: str, stack: str) -> str:
    """The Vault path (below the mount) of one project's secret."""
    return template.format(organization=organization, project=project, stack=stack).strip("/")


class _Problems:
    """Collects every invalid value so that one run reports them all."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def add(self, message: str) -> None:
        self.messages.append(message)

    def raise_if_any(self) -> None:
        if self.messages:
            lines = "\n".join(f"  - {m}" for m in self.messages)
            raise ConfigError(f"invalid configuration in namespace '{CONFIG_NAMESPACE}':\n{lines}")


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
    Raises :class:`ConfigError` listing every problem found.
    """
    problems = _Problems()
    secret_keys = set(secret_keys)
    _reject_unknown(values, TOP_LEVEL_KEYS, "", problems)

    organization = _text(values.get("organization")) or env.get("SENTRY_ORG", "")
    if not organization:
        problems.add(
            "organization: missing; set it with `pulumi config set organization <org-slug>` "
            "or the SENTRY_ORG environment variable"
        )
    elif not _SLUG.match(organization):
        problems.add(f"organization: {organization!r} is not a Sentry slug ({_SLUG_RULE})")

    sentry_url = _parse_sentry_url(values, env, problems)
    token, token_source = _parse_sentry_token(values, env, secret_keys, problems)
    team = _text(values.get("team")) or None
    if team is not None and not _SLUG.match(team):
        problems.add(f"team: {team!r} is not a Sentry slug ({_SLUG_RULE})")
    projects = _parse_projects(values.get("projects"), team, require_projects, problems)
    vault = _parse_vault(values.get("vault"), env, problems)
    if vault is not None and organization:
        _check_paths(projects, vault, organization, stack, problems)

    problems.raise_if_any()
    assert vault is not None and token is not None
    return Settings(
        organization=organization,
        sentry_url=sentry_url,
        sentry_token=token,
        sentry_token_source=token_source,
        projects=projects,
        team=team,
        vault=vault,
    )


_SLUG_RULE = "lowercase letters, digits, '-' and '_', not only digits, at most 50 characters"


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _reject_unknown(obj: Mapping[str, Any], allowed: Iterable[str], where: str, problems: _Problems) -> None:
    allowed = tuple(allowed)
    for key in obj:
        if key in allowed:
            continue
        close = difflib.get_close_matches(key, allowed, n=1)
        hint = f"did you mean '{close[0]}'?" if close else f"allowed: {', '.join(allowed)}"
        problems.add(f"{where}{key}: unknown key; {hint}")


def _parse_sentry_url(values: Mapping[str, Any], env: Mapping[str, str], problems: _Problems) -> str:
    raw = _text(values.get("sentryUrl")) or env.get("SENTRY_URL", "") or DEFAULT_SENTRY_URL
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        problems.add(
            f"sentryUrl: {raw!r} is not an http(s) URL; use e.g. https://sentry.io/ "
            "or https://sentry.example.com/prefix/"
        )
        return raw
    # One trailing slash, so that relative API paths join below any path prefix.
    return raw.rstrip("/") + "/"


def _parse_sentry_token(
    values: Mapping[str, Any], env: Mapping[str, str], secret_keys: set[str], problems: _Problems
) -> tuple[Secret | None, str]:
    raw = values.get("sentryToken")
    if raw not in (None, ""):
        if "sentryToken" not in secret_keys:
            problems.add(
                "sentryToken: stored in plain text in the stack config; remove it and run "
                "`pulumi config set --secret sentryToken <token>`"
            )
            return None, ""
        return Secret(str(raw)), f"config '{CONFIG_NAMESPACE}:sentryToken'"
    if env.get("SENTRY_AUTH_TOKEN"):
        return Secret(env["SENTRY_AUTH_TOKEN"]), "environment variable SENTRY_AUTH_TOKEN"
    problems.add(
        "sentryToken: missing; run `pulumi config set --secret sentryToken <token>` "
        "or set SENTRY_AUTH_TOKEN (scopes: project:read, org:read)"
    )
    return None, ""


def _parse_projects(
    raw: Any, team: str | None, require_projects: bool, problems: _Problems
) -> tuple[ProjectSpec, ...]:
    if raw is None:
        if team is None and require_projects:
            problems.add("projects: missing; list project slugs, or set `team` to publish every project of a team")
        return ()
    if not isinstance(raw, list):
        problems.add(f"projects: {raw!r} is not a list; give a list of slugs or {{slug, keyLabel, keyId, path}} objects")
        return ()
    if not raw and team is None and require_projects:
        problems.add("projects: the list is empty; add at least one project slug, or set `team`")
    specs: list[ProjectSpec] = []
    seen: set[str] = set()
    for index, item in enumerate(raw):
        spec = _parse_project(item, f"projects[{index}]", problems)
        if spec is None:
            continue
        if spec.slug in seen:
            problems.add(f"projects[{index}]: {spec.slug!r} is listed twice; keep one entry per project")
            continue
        seen.add(spec.slug)
        specs.append(spec)
    return tuple(specs)


def _parse_project(item: Any, where: str, problems: _Problems) -> ProjectSpec | None:
    if isinstance(item, str):
        item = {"slug": item}
    if not isinstance(item, dict):
        problems.add(f"{where}: {item!r} is neither a slug nor an object with a 'slug'")
        return None
    _reject_unknown(item, PROJECT_KEYS, f"{where}.", problems)
    slug = _text(item.get("slug"))
    if not _SLUG.match(slug):
        problems.add(f"{where}.slug: {item.get('slug')!r} is not a Sentry slug ({_SLUG_RULE})")
        return None
    key_label = _optional_text(item, "keyLabel", where, problems)
    key_id = _optional_text(item, "keyId", where, problems)
    if key_label is not None and key_id is not None:
        problems.add(f"{where}: both keyId {key_id!r} and keyLabel {key_label!r} are set; keep one")
    path = _optional_text(item, "path", where, problems)
    return ProjectSpec(slug=slug, key_label=key_label, key_id=key_id, path=path.strip("/") if path else None)


def _optional_text(obj: Mapping[str, Any], key: str, where: str, problems: _Problems) -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        problems.add(f"{where}.{key}: {value!r} must be a non-empty string")
        return None
    return value.strip()


def _parse_vault(raw: Any, env: Mapping[str, str], problems: _Problems) -> VaultSettings | None:
    raw = {} if raw is None else raw
    if not isinstance(raw, dict):
        problems.add(f"vault: {raw!r} is not an object; see the configuration reference in the README")
        return None
    _reject_unknown(raw, VAULT_KEYS, "vault.", problems)
    address = _text(raw.get("address")) or env.get("VAULT_ADDR", "")
    if not address:
        problems.add("vault.address: missing; set `vault.address` or the VAULT_ADDR environment variable")
    elif urlsplit(address).scheme not in ("http", "https"):
        problems.add(f"vault.address: {address!r} is not an http(s) URL, e.g. https://vault.example.com:8200")
    kv_version = raw.get("kvVersion", 2)
    if isinstance(kv_version, str) and kv_version.isdigit():
        kv_version = int(kv_version)
    if kv_version not in (1, 2):
        problems.add(f"vault.kvVersion: {kv_version!r} is not supported; allowed: 1, 2")
        kv_version = 2
    mount = _text(raw.get("mount")) or "secret"
    template = _text(raw.get("pathTemplate")) or DEFAULT_PATH_TEMPLATE
    _check_template(template, problems)
    on_delete = raw.get("onDelete", "delete")
    if on_delete not in ON_DELETE_CHOICES:
        close = difflib.get_close_matches(str(on_delete), ON_DELETE_CHOICES, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        problems.add(f"vault.onDelete: {on_delete!r} is not one of {', '.join(ON_DELETE_CHOICES)}{hint}")
        on_delete = "delete"
    skip_verify = raw.get("skipVerify", env.get("VAULT_SKIP_VERIFY", "false"))
    return VaultSettings(
        address=address.rstrip("/"),
        namespace=_text(raw.get("namespace")) or env.get("VAULT_NAMESPACE") or None,
        mount=mount.strip("/"),
        kv_version=kv_version,
        path_template=template,
        auth=_parse_auth(raw.get("auth"), problems),
        ca_cert=_text(raw.get("caCert")) or env.get("VAULT_CACERT") or None,
        skip_verify=_truthy(skip_verify),
        on_delete=on_delete,
    )


def _truthy(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "true", "yes", "on")


def _check_template(template: str, problems: _Problems) -> None:
    try:
        names = [name for _, name, _, _ in string.Formatter().parse(template) if name is not None]
    except ValueError as exc:
        problems.add(f"vault.pathTemplate: {template!r} is malformed ({exc}); placeholders look like {{project}}")
        return
    for name in names:
        if name not in PATH_PLACEHOLDERS:
            allowed = ", ".join("{" + p + "}" for p in PATH_PLACEHOLDERS)
            problems.add(f"vault.pathTemplate: unknown placeholder {{{name}}} in {template!r}; allowed: {allowed}")
    if "project" not in names:
        problems.add(f"vault.pathTemplate: {template!r} has no {{project}}, so every project would share one secret")


def _parse_auth(raw: Any, problems: _Problems) -> VaultAuth:
    if raw is None:
        return TokenAuth()
    if not isinstance(raw, dict):
        problems.add(f"vault.auth: {raw!r} is not an object like {{method: approle, roleId, secretId}}")
        return TokenAuth()
    method = raw.get("method", "token")
    if method not in AUTH_KEYS:
        problems.add(f"vault.auth.method: {method!r} is not one of {', '.join(AUTH_KEYS)}")
        return TokenAuth()
    _reject_unknown(raw, AUTH_KEYS[method], "vault.auth.", problems)
    mount = _text(raw.get("mount")) or None
    if method == "token":
        token = _text(raw.get("token"))
        return TokenAuth(token=Secret(token) if token else None)
    if method == "kubernetes":
        role = _required_auth_text(raw, "role", method, problems)
        return KubernetesAuth(
            role=role, token_path=_text(raw.get("tokenPath")) or KUBERNETES_TOKEN_PATH, mount=mount or "kubernetes"
        )
    if method == "approle":
        role_id = _required_auth_text(raw, "roleId", method, problems)
        secret_id = _text(raw.get("secretId"))
        return AppRoleAuth(
            role_id=role_id,
            secret_id=Secret(secret_id) if secret_id else None,
            secret_id_env=_text(raw.get("secretIdEnv")) or "VAULT_SECRET_ID",
            mount=mount or "approle",
        )
    role = _required_auth_text(raw, "role", method, problems)
    jwt = _text(raw.get("jwt"))
    return JwtAuth(
        role=role, jwt=Secret(jwt) if jwt else None, jwt_env=_text(raw.get("jwtEnv")) or None, mount=mount or "jwt"
    )


def _required_auth_text(raw: Mapping[str, Any], key: str, method: str, problems: _Problems) -> str:
    value = _text(raw.get(key))
    if not value:
        problems.add(f"vault.auth.{key}: missing; the {method} method needs it")
    return value


def _check_paths(
    projects: tuple[ProjectSpec, ...], vault: VaultSettings, organization: str, stack: str, problems: _Problems
) -> None:
    owners: dict[str, str] = {}
    for spec in projects:
        try:
            path = spec.path or render_vault_path(
                vault.path_template, organization=organization, project=spec.slug, stack=stack
            )
        except (KeyError, ValueError, IndexError):
            return  # the template itself is already reported
        if path in owners:
            problems.add(
                f"vault path {vault.mount}/{path}: both {owners[path]!r} and {spec.slug!r} map to it; "
                "give one of them its own `path` or include {project} in vault.pathTemplate"
            )
        owners[path] = spec.slug


def decode_namespace(raw_config: Mapping[str, Any]) -> dict[str, Any]:
    """The values of this tool's namespace from a flat `namespace:key -> value` map.

    Pulumi hands structured config (lists, objects) over as JSON text, both to
    the program and to providers; this decodes it so both see the same values.
    """
    prefix = CONFIG_NAMESPACE + ":"
    values: dict[str, Any] = {}
    for full_key, value in raw_config.items():
        if not full_key.startswith(prefix):
            continue
        key = full_key[len(prefix) :]
        if isinstance(value, str) and value[:1] in ("[", "{"):
            try:
                value = json.loads(value)
            except json.JSONDecodeError as exc:
                raise ConfigError(f"{key}: not valid JSON ({exc.msg}); set it with `pulumi config set --path`") from exc
        values[key] = value
    return values


def load_settings(*, env: Mapping[str, str] | None = None) -> Settings:
    """Settings of the running Pulumi program, from its stack config and the environment."""
    import pulumi
    from pulumi.runtime.config import CONFIG, is_config_secret

    raw_config = CONFIG.get()
    secret_keys = [key for key in TOP_LEVEL_KEYS if is_config_secret(f"{CONFIG_NAMESPACE}:{key}")]
    return parse_settings(
        decode_namespace(raw_config),
        os.environ if env is None else env,
        stack=pulumi.get_stack(),
        secret_keys=secret_keys,
    )
