"""Share one organization read between the preview and the update of a single `pulumi up`.

`pulumi up` previews, then updates, and the engine starts a fresh provider
process for each, so the per-process catalog would read the whole organization
from Sentry twice. Both processes descend from the same `pulumi` CLI process;
keyed by that process (its pid and start time), the update reuses the preview's
read. That halves the requests, and it applies exactly the keys the preview
showed. A later `pulumi up` is another CLI process and reads Sentry afresh.

What is stored is public: project slugs and ids, public keys and public DSNs
(models drop every secret at parse time). It lives in a directory only this
user can read, and files older than an hour are swept away.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

__all__ = ["InvocationCache", "pulumi_invocation_id"]

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
        if invocation_id is None:
            return None
        directory = directory or Path(tempfile.gettempdir()) / f"sentry-dsn-sync-{os.getuid()}"
        # The forms are part of the name: a read kept for other forms lacks URLs this one needs.
        identity = f"{invocation_id}\n{api_root}\n{organization}\n{','.join(dsn_forms)}"
        name = hashlib.sha256(identity.encode()).hexdigest()[:32]
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
