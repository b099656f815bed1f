"""Read, publish and remove one project's secret in a KV v1 or v2 mount.

The tool shares each secret with people and other tools: it owns only the
fields it is given and must never clobber the rest. So every publish reads
first and merges; on KV v2 the write is check-and-set against the version just
read, and a lost race is resolved by reading again rather than by
overwriting. A publish that would change nothing writes nothing, which keeps
"nothing changed" runs free of new KV versions and audit noise.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

import hvac
import hvac.exceptions
import hvac.utils

from sentry_dsn_sync.config import OnDelete
from sentry_dsn_sync.errors import VaultConflictError, VaultError, VaultMountError, VaultPermissionError
from sentry_dsn_sync.paths import path_problem
from sentry_dsn_sync.vault._error_translation import CallSite, is_cas_conflict, vault_errors
from sentry_dsn_sync.vault._plain_http import NotPlain, PlainHttp

__all__ = ["DEFAULT_CAS_ATTEMPTS", "KvStore", "PublishResult", "StoredSecret"]

DEFAULT_CAS_ATTEMPTS = 5
_log = logging.getLogger(__name__)
_MERGE_PATCH = "application/merge-patch+json"


@dataclass(frozen=True)
class StoredSecret:
    """What is in Vault at one path right now.

    `data` holds every field, the tool's (strings) and anyone else's (as Vault
    returned them). `version` is the KV v2 version read (None on KV v1);
    `custom_metadata` is the KV v2 custom metadata (empty on KV v1).
    """

    data: Mapping[str, Any]
    version: int | None = None
    custom_metadata: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class PublishResult:
    """`written` is True when publish changed anything in Vault (data or metadata).

    `version` is the KV v2 version now current (None on KV v1).
    """

    written: bool
    version: int | None


@dataclass(frozen=True)
class _Current:
    """A KV v2 read, including what a deleted latest version still tells us.

    `version` is the number the next check-and-set write must quote: 0 when
    the path has never been written, the latest version even when that
    version is deleted or destroyed (its `data` is then None).
    """

    data: dict[str, Any] | None
    version: int
    custom_metadata: dict[str, str]


# What a path that has never been written reads as: check-and-set quotes version 0.
_NEVER_WRITTEN = _Current(data=None, version=0, custom_metadata={})


class KvStore:
    """One KV mount seen through one logged-in client.

    `reads` and `writes` count the requests sent, so benchmarks and tests can
    prove that an unchanged run writes nothing.
    """

    def __init__(
        self,
        client: hvac.Client,
        *,
        mount: str,
        kv_version: Literal[1, 2],
        cas_attempts: int = DEFAULT_CAS_ATTEMPTS,
    ) -> None:
        if kv_version not in (1, 2):
            raise ValueError(f"kv_version must be 1 or 2, not {kv_version!r}")
        self._client = client
        self.mount = mount.strip("/")
        self.kv_version: Literal[1, 2] = kv_version
        self._cas_attempts = cas_attempts
        self.reads = 0
        self.writes = 0
        # The mount's real (type, KV version), once read: the owner of the store keeps
        # one store per mount for the whole process, so the mount is checked once.
        # Only a success is kept; a missing mount may appear.
        self._mount_found: tuple[str, int] | None = None
        self._plain = PlainHttp(client)

    # -- mount -----------------------------------------------------------------

    def check_mount(self) -> None:
        """Fail unless the mount exists and is a KV engine of the configured version.

        Uses `GET /v1/sys/internal/ui/mounts/<mount>`, which any token with a
        policy on some path below the mount may call (`sys/mounts` needs far
        more). Without this check a KV v2 write to a v1 mount would silently
        create a secret literally named `data/<path>`.
        """
        if self._mount_found is None:
            self._mount_found = self._read_mount()
        engine, version = self._mount_found
        if engine not in ("kv", "generic"):
            raise VaultMountError(
                f"`{self.mount}/` at {self._site().address} is a {engine!r} secrets engine, not KV; "
                "point vault.mount at a KV mount",
                path=self.mount,
            )
        if version != self.kv_version:
            raise VaultMountError(
                f"`{self.mount}/` at {self._site().address} is KV version {version}, but vault.kvVersion "
                f"is {self.kv_version}; set vault.kvVersion to {version}",
                path=self.mount,
            )

    def _read_mount(self) -> tuple[str, int]:
        path = f"sys/internal/ui/mounts/{self.mount}"
        site = self._site(path=path, capability="read")
        self.reads += 1
        with vault_errors(site):
            try:
                response = self._client.adapter.get(f"/v1/{path}")
            except hvac.exceptions.Forbidden as exc:
                # Vault answers 403 both for a missing mount and for a token with no
                # policy anywhere below it; it will not say which, so we name both.
                raise VaultMountError(
                    f"no secrets engine is mounted at `{self.mount}/` at {site.address}"
                    f"{_in_namespace(site.namespace)}, or the token has no policy on any path below it; "
                    f"enable it (`vault secrets enable -path={self.mount} kv-v2`) or fix vault.mount",
                    path=self.mount,
                ) from exc
        data = response["data"]
        options = data.get("options") or {}
        # KV mounted without options is version 1, as the Vault CLI reports it.
        return str(data.get("type", "")), int(options.get("version", "1"))

    # -- read ------------------------------------------------------------------

    def read(self, path: str) -> StoredSecret | None:
        """The secret at `path`, or None when it is absent or its latest version is deleted.

        KV v2: `GET /v1/<mount>/data/<path>`; KV v1: `GET /v1/<mount>/<path>`.
        """
        self.check_mount()
        if self.kv_version == 1:
            return _stored_v1(self._read_v1(path))
        return _stored_v2(self._read_v2(path))

    def peek(self, path: str) -> StoredSecret | None:
        """What :meth:`read` returns, for callers that read again with `read` whatever fails here.

        One plain `GET` (see `_plain_http`), cheaper in CPU than `read`,
        which counts at hundreds of reads per run. Anything but a
        200, or a 404 that means "no secret here", raises a VaultError that
        names only the path and the status: the caller's `read` then reports
        the failure properly.
        """
        self.check_mount()
        path = _path_inside_mount(path)
        api_path = f"{self.mount}/{path}" if self.kv_version == 1 else f"{self.mount}/data/{path}"
        self.reads += 1
        status, body = self._plain.get(_quote(api_path))
        body = body or {}
        if status == 404 and not body.get("errors"):
            return None  # absent, or (KV v2) its latest version deleted: as `read` says
        if status != 200:
            raise VaultError(f"reading `{api_path}` answered HTTP {status}", path=api_path)
        if self.kv_version == 1:
            return _stored_v1(dict(body.get("data") or {}))
        return _stored_v2(_current_v2(body["data"]))

    def _read_v1(self, path: str) -> dict[str, Any] | None:
        path = _path_inside_mount(path)
        self.reads += 1
        with vault_errors(self._site(path=f"{self.mount}/{path}", capability="read")):
            try:
                response = self._client.secrets.kv.v1.read_secret(path, mount_point=self.mount)
            except hvac.exceptions.InvalidPath as exc:
                if exc.errors:  # a routing error, not "no secret here"
                    raise
                return None
        return dict(response.get("data") or {})

    def _read_v2(self, path: str) -> _Current:
        path = _path_inside_mount(path)
        self.reads += 1
        with vault_errors(self._site(path=f"{self.mount}/data/{path}", capability="read")):
            try:
                response = self._client.secrets.kv.v2.read_secret_version(
                    path, mount_point=self.mount, raise_on_deleted_version=True
                )
            except hvac.exceptions.InvalidPath as exc:
                if exc.errors:
                    raise
                # 404 with a body: the latest version is deleted or destroyed, but
                # its number is still what check-and-set must quote.
                return _current_v2((exc.json or {}).get("data") or {})
        return _current_v2(response["data"])

    # -- publish ---------------------------------------------------------------

    def publish(
        self,
        path: str,
        fields: Mapping[str, str],
        *,
        custom_metadata: Mapping[str, str] | None = None,
        remove: Iterable[str] = (),
        expect_new: bool = False,
    ) -> PublishResult:
        """Make `fields` (and, on KV v2, `custom_metadata`) current at `path`, keeping everything else.

        Fields named in `remove` leave the secret (in the same write); every
        other field, ours or not, stays.

        KV v2: `GET /v1/<mount>/data/<path>`, then, only if a field differs,
        `POST /v1/<mount>/data/<path>` with `cas` set to the version read (0
        when absent), re-reading and re-merging on a check-and-set conflict;
        then, only if a key differs, `PATCH /v1/<mount>/metadata/<path>`,
        which merges on the server so metadata keys others set survive.
        KV v1: `GET` then, only if a field differs, `POST /v1/<mount>/<path>`
        (KV v1 has no versions, metadata or check-and-set).

        `expect_new` (nothing was published here before, as far as the caller
        knows): on KV v2 the first write goes out without the read, with
        `cas=0`, which Vault refuses when the path holds a version; the read
        and merge above then follow. A first run into a fresh mount so costs
        one request per secret fewer, and nothing already there is overwritten.
        """
        self.check_mount()
        gone = frozenset(remove)
        if self.kv_version == 1:
            return self._publish_v1(_path_inside_mount(path), fields, gone)
        path = _path_inside_mount(path)
        if expect_new:
            try:
                version = self._write_v2(path, _merged(None, fields, gone), _NEVER_WRITTEN)
            except VaultPermissionError:
                # Writing to a path that exists takes `update`, not `create`: the read below says which.
                version = None
            if version is not None:
                self._merge_metadata(path, {}, custom_metadata or {})
                return PublishResult(written=True, version=version)
            # Vault refused `cas=0`: the path holds a version after all; read and merge as usual.
        for _ in range(self._cas_attempts):
            current = self._read_v2(path)
            if current.data is not None and _contains(current.data, fields, gone):
                version, data_written = current.version, False
            else:
                written_version = self._write_v2(path, _merged(current.data, fields, gone), current)
                if written_version is None:
                    # Lost a check-and-set race: read the winner and merge again, at once (no wait to announce).
                    _log.debug("`%s/data/%s` changed after version %d; merging again",
                               self.mount, path, current.version)
                    continue
                version, data_written = written_version, True
            metadata_written = self._merge_metadata(path, current.custom_metadata, custom_metadata or {})
            return PublishResult(written=data_written or metadata_written, version=version)
        raise VaultConflictError(
            f"`{self.mount}/data/{path}` kept changing under another writer; gave up after "
            f"{self._cas_attempts} check-and-set attempts without overwriting it. Re-run when it settles.",
            path=f"{self.mount}/data/{path}",
        )

    def _write_v2(self, path: str, data: dict[str, Any], current: _Current) -> int | None:
        """The new version, or None when `current.version` is no longer the latest."""
        capability = "update" if current.version else "create"
        self.writes += 1
        with vault_errors(self._site(path=f"{self.mount}/data/{path}", capability=capability)):
            try:
                body = {"options": {"cas": current.version}, "data": data}
                response = self._send("POST", f"{self.mount}/data/{path}", body)
            except hvac.exceptions.InvalidRequest as exc:
                if is_cas_conflict(exc):
                    return None
                raise
        return int(response["data"]["version"])

    def _merge_metadata(self, path: str, have: Mapping[str, str], want: Mapping[str, str]) -> bool:
        missing = {key: value for key, value in want.items() if have.get(key) != value}
        if not missing:
            return False
        metadata_path = f"{self.mount}/metadata/{path}"
        self.writes += 1
        with vault_errors(self._site(path=metadata_path, capability="patch")):
            # Only our keys travel: a JSON merge patch leaves every other key as it is.
            self._send("PATCH", metadata_path, {"custom_metadata": dict(missing)}, content_type=_MERGE_PATCH)
        return True

    def _send(
        self, method: str, api_path: str, body: Mapping[str, Any], *, content_type: str = "application/json"
    ) -> Any:
        """One write: plain (see `_plain_http`), or through hvac behind a proxy."""
        api_path = _quote(api_path)
        try:
            return self._plain.send(method, api_path, body, content_type=content_type)
        except NotPlain:
            headers = {"Content-Type": content_type}
            return self._client.adapter.request(method, f"/v1/{api_path}", json=body, headers=headers)

    def _publish_v1(self, path: str, fields: Mapping[str, str], gone: frozenset[str]) -> PublishResult:
        current = self._read_v1(path)
        if current is not None and _contains(current, fields, gone):
            return PublishResult(written=False, version=None)
        capability = "update" if current is not None else "create"
        self.writes += 1
        with vault_errors(self._site(path=f"{self.mount}/{path}", capability=capability)):
            # method="POST": otherwise hvac reads the secret again to choose the verb.
            self._client.secrets.kv.v1.create_or_update_secret(
                path, secret=_merged(current, fields, gone), method="POST", mount_point=self.mount
            )
        return PublishResult(written=True, version=None)

    # -- remove ----------------------------------------------------------------

    def remove(self, path: str, *, policy: OnDelete) -> None:
        """Apply the onDelete policy to `path`; a secret that is already gone is a success.

        `delete`: KV v2 `DELETE /v1/<mount>/data/<path>` (soft delete of the
        latest version, recoverable with undelete); KV v1
        `DELETE /v1/<mount>/<path>`.
        `destroy`: KV v2 `DELETE /v1/<mount>/metadata/<path>` (every version
        and the metadata); KV v1 the same delete as above.
        `retain`: no request at all.
        """
        if policy == "retain":
            return
        if policy not in ("delete", "destroy"):
            raise ValueError(f"policy must be delete, destroy or retain, not {policy!r}")
        self.check_mount()
        path = _path_inside_mount(path)
        self.writes += 1
        if self.kv_version == 1:
            with vault_errors(self._site(path=f"{self.mount}/{path}", capability="delete")):
                self._client.secrets.kv.v1.delete_secret(path, mount_point=self.mount)
        elif policy == "delete":
            with vault_errors(self._site(path=f"{self.mount}/data/{path}", capability="delete")):
                self._client.secrets.kv.v2.delete_latest_version_of_secret(path, mount_point=self.mount)
        else:
            with vault_errors(self._site(path=f"{self.mount}/metadata/{path}", capability="delete")):
                self._client.secrets.kv.v2.delete_metadata_and_all_versions(path, mount_point=self.mount)

    # -- helpers ---------------------------------------------------------------

    def require_write_access(
        self, path: str, *, exists: bool, granted: Mapping[str, frozenset[str]] | None = None
    ) -> None:
        """Fail before writing anything when the token could not finish a publish at `path`.

        A KV v2 publish writes the data, then patches the custom metadata:
        without this check a policy that allows the first but not the second
        would leave a half-published secret. `granted` is what
        :meth:`capabilities` answered for this path among others; without it,
        this asks Vault for this path alone.
        """
        needed = self._write_capabilities(_path_inside_mount(path), exists=exists)
        if granted is None or not set(needed) <= set(granted):
            granted = self._granted(list(needed))
        missing = [
            f"`{capability}` on `{api_path}`"
            for api_path, capability in needed.items()
            if not {capability, "root"} & granted[api_path]
        ]
        if missing:
            raise VaultPermissionError(
                f"the Vault token's policy lacks {' and '.join(missing)}, so publishing would fail or stop "
                "half-way; nothing was written. Grant them (docs/vault-policy.hcl lists what the tool needs).",
                path=f"{self.mount}/{path}",
            )

    def capabilities(self, paths: Iterable[str]) -> dict[str, frozenset[str]]:
        """The token's capabilities on every API path a publish at each of `paths` touches, in one request.

        `POST /v1/sys/capabilities-self`; pass the answer to
        :meth:`require_write_access`, so many secrets cost one request.
        """
        api_paths: list[str] = []
        for path in paths:
            api_paths.extend(self._write_capabilities(_path_inside_mount(path), exists=False))
        return self._granted(api_paths)

    def _write_capabilities(self, path: str, *, exists: bool) -> dict[str, str]:
        """API path -> the capability a publish at `path` needs there."""
        write = "update" if exists else "create"
        if self.kv_version == 1:
            return {f"{self.mount}/{path}": write}
        return {f"{self.mount}/data/{path}": write, f"{self.mount}/metadata/{path}": "patch"}

    def _granted(self, api_paths: list[str]) -> dict[str, frozenset[str]]:
        with vault_errors(self._site(path="sys/capabilities-self", capability="update")):
            answer = self._client.sys.get_capabilities(paths=api_paths)
        # Vault answers each path at the top level and again under `data`.
        listed = {**(answer.get("data") or {}), **answer}
        return {api_path: frozenset(listed.get(api_path) or ()) for api_path in api_paths}

    def _site(self, *, path: str = "", capability: str = "") -> CallSite:
        return CallSite(
            address=str(self._client.url),
            namespace=self._client.adapter.namespace,
            path=path,
            capability=capability,
        )


def _current_v2(body: Mapping[str, Any]) -> _Current:
    """The `data` object of a KV v2 read: of a 200, or of the 404 a deleted latest version answers."""
    metadata = body.get("metadata") or {}
    data = body.get("data")
    return _Current(
        data=None if data is None else dict(data),
        version=int(metadata.get("version") or 0),
        custom_metadata=dict(metadata.get("custom_metadata") or {}),
    )


def _stored_v1(data: dict[str, Any] | None) -> StoredSecret | None:
    return None if data is None else StoredSecret(data=MappingProxyType(data))


def _stored_v2(current: _Current) -> StoredSecret | None:
    if current.data is None:
        return None  # absent, or its latest version deleted
    return StoredSecret(
        data=MappingProxyType(current.data),
        version=current.version,
        custom_metadata=MappingProxyType(current.custom_metadata),
    )


def _contains(data: Mapping[str, Any], fields: Mapping[str, str], gone: frozenset[str]) -> bool:
    present = all(key in data and data[key] == value for key, value in fields.items())
    return present and gone.isdisjoint(data)


def _merged(data: Mapping[str, Any] | None, fields: Mapping[str, str], gone: frozenset[str]) -> dict[str, Any]:
    """What the secret holds after a publish: its fields, ours updated, the dropped ones left out."""
    return {key: value for key, value in {**(data or {}), **fields}.items() if key not in gone}


def _path_inside_mount(path: str) -> str:
    """`path` without a trailing '/', refused when it could name anything outside the mount."""
    problem = path_problem(path)
    if problem is not None:
        # The last guard: config and slugs are checked long before, but no write may leave the mount.
        raise VaultError(f"refusing the secret path {path[:100]!r}: it {problem}", path=path[:100])
    return path.rstrip("/")


def _quote(path: str) -> str:
    return str(hvac.utils.format_url("{path}", path=path))


def _in_namespace(namespace: str | None) -> str:
    return f" in namespace {namespace!r}" if namespace else ""
