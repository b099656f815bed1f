"""Expected failures of create, update and delete reach `pulumi up` as one message, without a traceback.

The Python dynamic-provider host (`python -m pulumi.dynamic`) reports any
exception a provider method raises as `traceback.format_exc()`: a Python
traceback around the message. `check` can return clean failures, but a
check-and-set conflict or a Vault refusal happens at write time. Inside the
provider process, the host's `traceback` name is pointed at a stand-in whose
`format_exc` gives only the message for this tool's own errors (each names
the cause and the fix) and the full traceback for anything unexpected.
"""

from __future__ import annotations

import sys
import traceback
import types
from typing import Any

from sentry_dsn_sync.errors import SentryDsnSyncError

__all__ = ["format_exc", "report_expected_errors_without_traceback"]

# The module the host runs as: `__main__` in a provider process, this name when imported.
_HOST_MODULES = ("__main__", "pulumi.dynamic.__main__")


def format_exc(limit: int | None = None, chain: bool = True) -> str:
    """`traceback.format_exc`, except that an expected error is only its message."""
    error = sys.exc_info()[1]
    if isinstance(error, SentryDsnSyncError):
        return str(error)
    return traceback.format_exc(limit, chain)


class _TracebackWithCleanErrors(types.ModuleType):
    """The `traceback` module with :func:`format_exc` replaced; every other name is the module's own."""

    def __getattr__(self, name: str) -> Any:
        return getattr(traceback, name)


_stand_in = _TracebackWithCleanErrors("traceback")
_stand_in.format_exc = format_exc  # type: ignore[attr-defined]


def report_expected_errors_without_traceback() -> bool:
    """Install the stand-in into the dynamic-provider host, if this process is one; True if it was."""
    installed = False
    for name in _HOST_MODULES:
        host = sys.modules.get(name)
        # Only the host itself: it is recognised by the wrapper that calls format_exc.
        if host is not None and hasattr(host, "_abort_with_traceback") and getattr(host, "traceback", None) in (
            traceback,
            _stand_in,
        ):
            host.traceback = _stand_in  # type: ignore[attr-defined]
            installed = True
    return installed
