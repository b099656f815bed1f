"""The settings every layer reads: typed, frozen, and parsed once at the edge (see `_parse`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

from sentry_dsn_sync.errors import ConfigError
from sentry_dsn_sync.paths import path_problem

__all__ = [
    "AUTH_KEYS",
    "CONFIG_NAMESPACE",
    "DEFAULT_KV_VERSION",
    "DEFAULT_MOUNT",
    "DEFAULT_ON_DELETE",
    "DEFAULT_PASSWORD_ENV",
    "DEFAULT_PATH_TEMPLATE",
    "DEFAULT_SECRET_ID_ENV",
    "DEFAULT_SENTRY_URL",
    "DSN_FORMS",
    "ENV_FALLBACKS",
    "ON_DELETE_CHOICES",
    "PATH_PLACEHOLDERS",
    "PROJECT_KEYS",
    "TOP_LEVEL_KEYS",
    "VAULT_KEYS",
    "AppRoleAuth",
    "CertAuth",
    "JwtAuth",
    "KubernetesAuth",
    "OnDelete",
    "ProjectSpec",
    "Secret",
    "Settings",
    "TokenAuth",
    "UserpassAuth",
    "VaultAuth",
    "VaultSettings",
    "render_vault_path",
]

CONFIG_NAMESPACE = "sentry-dsn-sync"
DEFAULT_SENTRY_URL = "https://sentry.io/"
DEFAULT_MOUNT = "secret"
DEFAULT_KV_VERSION: Literal[1, 2] = 2
DEFAULT_PATH_TEMPLATE = "sentry/{organization}/{project}"
DEFAULT_SECRET_ID_ENV = "VAULT_SECRET_ID"
DEFAULT_PASSWORD_ENV = "VAULT_PASSWORD"
PATH_PLACEHOLDERS = ("organization", "project", "stack")
KUBERNETES_TOKEN_PATH = "/var/run/secrets/kubernetes.io/serviceaccount/token"

OnDelete = Literal["delete", "destroy", "retain"]
ON_DELETE_CHOICES: tuple[OnDelete, ...] = ("delete", "destroy", "retain")
DEFAULT_ON_DELETE: OnDelete = "delete"

TOP_LEVEL_KEYS = (
    "organization",
    "sentryUrl",
    "sentryToken",
    "sentryTokenEnv",
    "projects",
    "team",
    "vault",
    "dsnForms",
)
PROJECT_KEYS = ("slug", "keyLabel", "keyId", "path", "dsnForms")

# The forms of a key's `dsn` object a stack may publish besides the public DSN
# (`dsnForms`), in the order Sentry's ProjectKeySerializer renders them. Never
# `secret`: the key's secret part is not even read.
DSN_FORMS = (
    "csp",
    "security",
    "minidump",
    "nel",
    "unreal",
    "crons",
    "cdn",
    "playstation",
    "integration",
    "otlp_traces",
    "otlp_logs",
)
VAULT_KEYS = (
    "address",
    "namespace",
    "mount",
    "kvVersion",
    "pathTemplate",
    "auth",
    "caCert",
    "caPath",
    "clientCert",
    "clientKey",
    "tlsServerName",
    "skipVerify",
    "onDelete",
)
AUTH_KEYS = {
    "token": ("method", "token", "tokenEnv"),
    "approle": ("method", "roleId", "secretId", "secretIdEnv", "mount"),
    "jwt": ("method", "role", "jwt", "jwtEnv", "mount"),
    "kubernetes": ("method", "role", "tokenPath", "mount"),
    "cert": ("method", "name", "mount"),
    "userpass": ("method", "username", "password", "passwordEnv", "mount"),
}

# Config key -> the environment variable read when the key is not set; the
# same names the Sentry and Vault CLIs read, so a pipeline sets them once.
ENV_FALLBACKS = {
    "organization": "SENTRY_ORG",
    "sentryUrl": "SENTRY_URL",
    "sentryToken": "SENTRY_AUTH_TOKEN",
    "vault.address": "VAULT_ADDR",
    "vault.namespace": "VAULT_NAMESPACE",
    "vault.caCert": "VAULT_CACERT",
    "vault.caPath": "VAULT_CAPATH",
    "vault.clientCert": "VAULT_CLIENT_CERT",
    "vault.clientKey": "VAULT_CLIENT_KEY",
    "vault.tlsServerName": "VAULT_TLS_SERVER_NAME",
    "vault.skipVerify": "VAULT_SKIP_VERIFY",
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
    # None: the stack's `dsnForms`; a tuple (even empty) replaces them for this project.
    dsn_forms: tuple[str, ...] | None = None


@dataclass(frozen=True)
class TokenAuth:
    """A Vault token from config, else the env var `token_env` (default `VAULT_TOKEN`), else `~/.vault-token`."""

    token: Secret | None = None
    token_env: str | None = None
    method: Literal["token"] = "token"


@dataclass(frozen=True)
class AppRoleAuth:
    role_id: str
    secret_id: Secret | None = None
    secret_id_env: str = DEFAULT_SECRET_ID_ENV
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


@dataclass(frozen=True)
class CertAuth:
    """TLS certificate login: the client certificate is `VaultSettings.client_cert`, sent on every request."""

    name: str | None = None
    mount: str = "cert"
    method: Literal["cert"] = "cert"


@dataclass(frozen=True)
class UserpassAuth:
    username: str
    password: Secret | None = None
    password_env: str = DEFAULT_PASSWORD_ENV
    mount: str = "userpass"
    method: Literal["userpass"] = "userpass"


VaultAuth = TokenAuth | AppRoleAuth | JwtAuth | KubernetesAuth | CertAuth | UserpassAuth


@dataclass(frozen=True)
class VaultSettings:
    address: str
    namespace: str | None = None
    mount: str = DEFAULT_MOUNT
    kv_version: Literal[1, 2] = DEFAULT_KV_VERSION
    path_template: str = DEFAULT_PATH_TEMPLATE
    auth: VaultAuth = field(default_factory=TokenAuth)
    ca_cert: str | None = None
    # The TLS settings the Vault CLI reads from VAULT_CAPATH, VAULT_CLIENT_CERT,
    # VAULT_CLIENT_KEY and VAULT_TLS_SERVER_NAME.
    ca_path: str | None = None
    client_cert: str | None = None
    client_key: str | None = None
    tls_server_name: str | None = None
    skip_verify: bool = False
    on_delete: OnDelete = DEFAULT_ON_DELETE


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
    dsn_forms: tuple[str, ...] = ()
    # How the provider process reaches Sentry and Vault for these settings: None when
    # it reads the stack config itself (`load_settings`); else the non-secret values
    # given to `parse_settings`, credentials only as the names of env vars holding them.
    connection: Mapping[str, Any] | None = field(default=None, compare=False)
    # Credentials given as values to `parse_settings`: a provider could get them only through state.
    literal_credentials: tuple[str, ...] = ()

    def dsn_forms_for(self, spec: ProjectSpec) -> tuple[str, ...]:
        """The DSN forms project `spec` publishes besides `dsn`: its own list, else the stack's."""
        return self.dsn_forms if spec.dsn_forms is None else spec.dsn_forms

    @cached_property
    def published_dsn_forms(self) -> tuple[str, ...]:
        """Every DSN form some project of these settings publishes, in DSN_FORMS order.

        Cached: every check asks, and the answer walks every configured project.
        """
        wanted = set(self.dsn_forms).union(*(spec.dsn_forms or () for spec in self.projects))
        return tuple(form for form in DSN_FORMS if form in wanted)

    def all_projects(self, discovered: Iterable[str]) -> list[ProjectSpec]:
        """The configured projects first (they may carry a key choice or a path), then the team's others.

        `discovered`: the slugs of the `team`'s projects, in Sentry's order.
        """
        specs = list(self.projects)
        listed = {spec.slug for spec in specs}
        specs.extend(ProjectSpec(slug=slug) for slug in discovered if slug not in listed)
        return specs

    def vault_path(self, spec: ProjectSpec, *, stack: str) -> str:
        """Where project `spec`'s secret lives below the mount: its own `path`, else the template's.

        Checked again here, not only when the config is parsed: a project found
        through `team` brings a slug from Sentry that the config never saw.
        """
        path = spec.path or render_vault_path(
            self.vault.path_template, organization=self.organization, project=spec.slug, stack=stack
        )
        problem = path_problem(path)
        if problem is not None:
            raise ConfigError(
                f"project {spec.slug!r}: its Vault path {path!r} {problem}; nothing was written for it. "
                "Fix vault.pathTemplate or the project's `path`"
            )
        return path


def render_vault_path(template: str, *, organization: str, project: str, stack: str) -> str:
    """The Vault path (below the mount) of one project's secret (unchecked: see `paths.path_problem`)."""
    return template.format(organization=organization, project=project, stack=stack).rstrip("/")
