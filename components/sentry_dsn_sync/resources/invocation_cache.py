"""What the processes of a single `pulumi` command share through files.

* The organization read. `pulumi up` previews, then updates, and the engine
  starts a fresh provider process for each, so the per-process catalog would
  read the whole organization from Sentry twice. Both processes descend from
  the same `pulumi` CLI process; keyed by that process (its pid and start
  time), the update reuses the preview's read. That halves the requests, and
  it applies exactly the keys the preview showed. A later `pulumi up` is
  another CLI process and reads Sentry afresh.
* The plan of a program's own settings (`Settings.connection`): the secret
  paths its projects publish, per Vault mount, which the provider cannot learn
  from the stack config. The program writes them before it registers the
  projects, so the provider can read their secrets ahead and ask about their
  write access in blocks, as it does for the stack config's projects.

What is stored is public: project slugs and ids, public keys and public DSNs
(models drop every secret at parse time), secret paths, and the connection's
non-secret values only inside a hash. It lives in a directory only this user
can read, and files older than an hour are swept away.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

__all__ = ["InvocationCache", "add_to_plan", "planned_paths", "pulumi_invocation_id"]

_MAX_AGE_SECONDS = 3600
_ANCESTORS_TO_SEARCH = 8


def pulumi_invocation_id(*, proc: Path = Path("/proc"), pid: int | None = None) -> str | None:
    """`<pid>-<start time>` of the nearest ancestor `pulumi` process, or None outside one."""
    current = os.getpid() if pid is None else pid
    for _ in range(_ANCESTORS_TO_SEARCH):
        try:
            stat = (proc / str(current) / "stat").read_text()
        except OSError:
            return None
        # The command name sits in parentheses and may itself hold spaces or parentheses.
        command = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        if command == "pulumi":
            return f"{current}-{fields[19]}"
        current = int(fields[1])
        if current <= 1:
            return None
    return None


class InvocationCache:
    """One JSON document per (pulumi invocation, Sentry API root, organization, DSN forms kept)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def for_invocation(
        cls,
        invocation_id: str | None,
        *,
        api_root: str,
        organization: str,
        dsn_forms: tuple[str, ...] = (),
        directory: Path | None = None,
    ) -> InvocationCache | None:
        # The forms are part of the name: a read kept for other forms lacks URLs this one needs.
        return cls._named(invocation_id, f"{api_root}\n{organization}\n{','.join(dsn_forms)}", directory)

    @classmethod
    def for_plan(
        cls,
        invocation_id: str | None,
        *,
        connection: Mapping[str, Any],
        mount: str,
        kv_version: int,
        directory: Path | None = None,
    ) -> InvocationCache | None:
        """The plan of the projects published with `connection` (its values and `organization`) in one mount."""
        identity = f"plan\n{json.dumps(connection, sort_keys=True)}\n{mount}\n{kv_version}"
        return cls._named(invocation_id, identity, directory)

    @classmethod
    def _named(cls, invocation_id: str | None, identity: str, directory: Path | None) -> InvocationCache | None:
        if invocation_id is None:
            return None
        directory = directory or Path(tempfile.gettempdir()) / f"sentry-dsn-sync-{os.getuid()}"
        name = hashlib.sha256(f"{invocation_id}\n{identity}".encode()).hexdigest()[:32]
        return cls(directory / f"{name}.json")

    def load(self) -> Any | None:
        try:
            if not self._directory_is_private():
                return None
            return json.loads(self.path.read_text())
        except (OSError, ValueError):
            return None

    def save(self, document: Any) -> None:
        """Best effort: a cache that cannot be written only costs a second read of Sentry."""
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            if not self._directory_is_private():
                return
            self._sweep()
            partial = self.path.with_suffix(f".{os.getpid()}.tmp")
            partial.write_text(json.dumps(document))
            os.replace(partial, self.path)
        except OSError:
            return

    def _directory_is_private(self) -> bool:
        """Trust only a directory of our own that nobody else can write into."""
        info = self.path.parent.stat()
        return info.st_uid == os.getuid() and info.st_mode & 0o077 == 0

    def _sweep(self) -> None:
        cutoff = time.time() - _MAX_AGE_SECONDS
        for stale in self.path.parent.glob("*.json"):
            try:
                if stale.stat().st_mtime < cutoff:
                    stale.unlink()
            except OSError:
                continue


def add_to_plan(connection: Mapping[str, Any], *, mount: str, kv_version: int, paths: Iterable[str]) -> None:
    """Add `paths` to this command's plan of `connection` in `mount` (best effort; see the module).

    Added to, not replaced: two components of one program may share a connection and a mount.
    """
    plan = _this_commands_plan(connection, mount=mount, kv_version=kv_version)
    if plan is None:
        return
    planned = _paths_of(plan.load())
    known = set(planned)
    for path in paths:
        if path not in known:
            known.add(path)
            planned.append(path)
    plan.save({"paths": planned})


def planned_paths(connection: Mapping[str, Any], *, mount: str, kv_version: int) -> list[str]:
    """The paths this command's program planned for `connection` in `mount`; none outside a `pulumi` command."""
    plan = _this_commands_plan(connection, mount=mount, kv_version=kv_version)
    return _paths_of(plan.load()) if plan is not None else []


def _this_commands_plan(connection: Mapping[str, Any], *, mount: str, kv_version: int) -> InvocationCache | None:
    return InvocationCache.for_plan(pulumi_invocation_id(), connection=connection, mount=mount, kv_version=kv_version)


def _paths_of(document: Any) -> list[str]:
    paths = document.get("paths") if isinstance(document, dict) else None
    return [path for path in paths if isinstance(path, str)] if isinstance(paths, list) else []
