"""Authenticate an hvac client with the configured method, as the Vault CLI would.

Credentials are looked up when a login happens, never earlier, and live only
inside the hvac client afterwards: the provider object is pickled into Pulumi
state, so nothing here may be kept on it. Each method returns where the
credential came from, so that an auth error can name its source without
showing it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import quote

import hvac

from sentry_dsn_sync.config import (
    AppRoleAuth,
    CertAuth,
    JwtAuth,
    KubernetesAuth,
    Secret,
    TokenAuth,
    UserpassAuth,
    VaultAuth,
)
from sentry_dsn_sync.errors import VaultAuthError
from sentry_dsn_sync.vault._error_translation import CallSite, vault_errors

__all__ = ["login"]

_log = logging.getLogger(__name__)


def login(client: hvac.Client, auth: VaultAuth, *, env: Mapping[str, str], site: CallSite) -> None:
    """Give `client` a working token, or raise :class:`VaultAuthError` saying what to fix."""
    _log.debug("logging in to Vault at %s with the %s auth method", site.address, auth.method)
    if isinstance(auth, TokenAuth):
        _token(client, auth, env=env, site=site)
    elif isinstance(auth, AppRoleAuth):
        _approle(client, auth, env=env, site=site)
    elif isinstance(auth, JwtAuth):
        _jwt(client, auth, env=env, site=site)
    elif isinstance(auth, KubernetesAuth):
        _kubernetes(client, auth, site=site)
    elif isinstance(auth, CertAuth):
        _cert(client, auth, site=site)
    elif isinstance(auth, UserpassAuth):
        _userpass(client, auth, env=env, site=site)
    else:  # pragma: no cover - config.py only builds the six above
        raise VaultAuthError(f"unsupported Vault auth method {auth!r}")


def _token(client: hvac.Client, auth: TokenAuth, *, env: Mapping[str, str], site: CallSite) -> None:
    """Config token, else VAULT_TOKEN, else ~/.vault-token: the Vault CLI's own order.

    The token is checked with `GET auth/token/lookup-self` right away, so an
    expired or revoked token fails here, before any secret is read, with a
    message naming where it came from.
    """
    token, source = _find_token(auth, env)
    client.token = token
    checked = CallSite(
        address=site.address, namespace=site.namespace, path="auth/token/lookup-self", credential_source=source
    )
    with vault_errors(checked, redact=(token,)):
        client.auth.token.lookup_self()


def _find_token(auth: TokenAuth, env: Mapping[str, str]) -> tuple[str, str]:
    if auth.token is not None:
        return auth.token.reveal(), "config 'vault.auth.token'"
    if auth.token_env is not None:
        # Named on purpose (a second Vault's token): no falling back to another credential.
        if env.get(auth.token_env):
            return env[auth.token_env], f"environment variable {auth.token_env}"
        raise VaultAuthError(
            f"no Vault token: the environment variable {auth.token_env} (vault.auth.tokenEnv) is not set; export it"
        )
    if env.get("VAULT_TOKEN"):
        return env["VAULT_TOKEN"], "environment variable VAULT_TOKEN"
    home = env.get("HOME")
    if home:
        token_file = Path(home) / ".vault-token"
        try:
            token = token_file.read_text().strip()
        except FileNotFoundError:
            token = ""
        except OSError as exc:
            raise VaultAuthError(f"cannot read the Vault token file {token_file}: {exc.strerror}") from exc
        if token:
            return token, f"token file {token_file}"
    raise VaultAuthError(
        "no Vault token: set VAULT_TOKEN, run `vault login` (writes ~/.vault-token), "
        "or configure vault.auth with approle, jwt, kubernetes, cert or userpass"
    )


def _approle(client: hvac.Client, auth: AppRoleAuth, *, env: Mapping[str, str], site: CallSite) -> None:
    """`POST auth/<mount>/login` with role_id and a secret_id from config or the named env var."""
    secret_id, source = _configured_or_env(
        auth.secret_id, "secretId", env, auth.secret_id_env, missing="AppRole login needs a secret_id"
    )
    login_site = _login_site(site, auth.mount, f"AppRole role_id {auth.role_id!r} with the secret_id from {source}")
    with vault_errors(login_site, redact=(secret_id,)):
        client.auth.approle.login(role_id=auth.role_id, secret_id=secret_id, mount_point=auth.mount)


def _jwt(client: hvac.Client, auth: JwtAuth, *, env: Mapping[str, str], site: CallSite) -> None:
    """`POST auth/<mount>/login` with the role and a JWT from config or the env var named by jwtEnv."""
    if auth.jwt is not None:
        token, source = auth.jwt.reveal(), "config 'vault.auth.jwt'"
    elif auth.jwt_env and env.get(auth.jwt_env):
        token, source = env[auth.jwt_env], f"environment variable {auth.jwt_env}"
    else:
        where = f"the environment variable {auth.jwt_env}" if auth.jwt_env else "vault.auth.jwtEnv"
        raise VaultAuthError(f"JWT login for role {auth.role!r} needs a token: set vault.auth.jwt or {where}")
    login_site = _login_site(site, auth.mount, f"JWT role {auth.role!r} with the token from {source}")
    with vault_errors(login_site, redact=(token,)):
        client.auth.jwt.jwt_login(role=auth.role, jwt=token, path=auth.mount)


def _kubernetes(client: hvac.Client, auth: KubernetesAuth, *, site: CallSite) -> None:
    """`POST auth/<mount>/login` with the role and the pod's service-account token file."""
    try:
        token = Path(auth.token_path).read_text().strip()
    except OSError as exc:
        raise VaultAuthError(
            f"Kubernetes login for role {auth.role!r} cannot read the service-account token "
            f"{auth.token_path} ({exc.strerror}); run inside a pod or set vault.auth.tokenPath"
        ) from exc
    source = f"Kubernetes role {auth.role!r} with the service-account token {auth.token_path}"
    with vault_errors(_login_site(site, auth.mount, source), redact=(token,)):
        client.auth.kubernetes.login(role=auth.role, jwt=token, mount_point=auth.mount)


def _cert(client: hvac.Client, auth: CertAuth, *, site: CallSite) -> None:
    """`POST auth/<mount>/login` over TLS with the client certificate the client already presents."""
    role = f"certificate role {auth.name!r}" if auth.name else "any matching certificate role"
    source = f"the TLS client certificate (vault.clientCert / VAULT_CLIENT_CERT) for {role}"
    with vault_errors(_login_site(site, auth.mount, source)):
        client.adapter.login(f"/v1/auth/{quote(auth.mount)}/login", json={"name": auth.name} if auth.name else {})


def _userpass(client: hvac.Client, auth: UserpassAuth, *, env: Mapping[str, str], site: CallSite) -> None:
    """`POST auth/<mount>/login/<username>` with a password from config or the named env var."""
    missing = f"userpass login for {auth.username!r} needs a password"
    password, source = _configured_or_env(auth.password, "password", env, auth.password_env, missing=missing)
    login_site = _login_site(site, auth.mount, f"userpass user {auth.username!r} with the password from {source}")
    with vault_errors(login_site, redact=(password,)):
        client.adapter.login(
            f"/v1/auth/{quote(auth.mount)}/login/{quote(auth.username, safe='')}", json={"password": password}
        )


def _configured_or_env(
    configured: Secret | None, key: str, env: Mapping[str, str], env_name: str, *, missing: str
) -> tuple[str, str]:
    """A credential from `vault.auth.<key>`, else from the variable `env_name`, and where it came from."""
    if configured is not None:
        return configured.reveal(), f"config 'vault.auth.{key}'"
    if env.get(env_name):
        return env[env_name], f"environment variable {env_name}"
    raise VaultAuthError(f"{missing}: set vault.auth.{key} (as a secret) or the environment variable {env_name}")


def _login_site(site: CallSite, mount: str, source: str) -> CallSite:
    return CallSite(
        address=site.address, namespace=site.namespace, path=f"auth/{mount}/login", credential_source=source
    )
