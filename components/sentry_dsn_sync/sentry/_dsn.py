"""Whether a public DSN Sentry sent is one this tool may publish.

Whatever lands in Vault and the `dsns` output is loaded by SDKs in browsers
and servers, so a key whose `dsn.public` is not a DSN of that very key and
project (another host's URL with someone else's user part, a `javascript:`
URL, a DSN carrying a secret) must not replace the last good value.
"""

from __future__ import annotations

import re
from urllib.parse import SplitResult, urlsplit

from sentry_dsn_sync._redaction import redacted_url
from sentry_dsn_sync.errors import InvalidDsnError

__all__ = ["check_public_dsn", "dsn_problem"]

# A host name or an IPv4 address; IPv6 literals come through urlsplit without their brackets.
_HOST = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*\.?\Z")
_IPV6 = re.compile(r"[0-9a-f:.]+\Z")
_UNPRINTABLE = re.compile(r"[\x00-\x20\x7f-\x9f]")


def dsn_problem(dsn: str, *, public_key: str, project_id: int) -> str | None:
    """What is wrong with `dsn` as the public DSN of key `public_key` in project `project_id` (None: nothing)."""
    if _UNPRINTABLE.search(dsn):
        return "contains whitespace or control characters"
    try:
        parts = urlsplit(dsn)
        port = parts.port
    except ValueError:
        return "is not a URL"
    if parts.scheme not in ("http", "https"):
        return f"has the scheme {parts.scheme!r}, not http or https"
    return _authority_problem(parts, port, public_key) or _path_problem(parts, project_id)


def _authority_problem(parts: SplitResult, port: int | None, public_key: str) -> str | None:
    if parts.password is not None:
        return "carries a password (a secret key); only the public DSN may be published"
    host = parts.hostname or ""
    if not (_HOST.match(host) or (":" in host and _IPV6.match(host))):
        return "has no valid host"
    if port == 0:
        return "has port 0"
    if parts.username != public_key:
        return "has a user part that is not the key's public key"
    return None


def _path_problem(parts: SplitResult, project_id: int) -> str | None:
    if parts.query or parts.fragment:
        return "has a query or fragment"
    last = parts.path.rsplit("/", 1)[-1]
    if last != str(project_id):
        return f"does not end in the project id {project_id}"
    return None


def check_public_dsn(dsn: str, *, key_id: str, public_key: str, project_id: int, project: str) -> None:
    """Raise InvalidDsnError naming the key and the problem unless `dsn` may be published for `project`."""
    problem = dsn_problem(dsn, public_key=public_key, project_id=project_id)
    if problem is None:
        return
    raise InvalidDsnError(
        f"project '{project}': client key '{key_id}' has a public DSN that {problem} ({_quoted(dsn)}); "
        "it was not published and the project's secret and outputs keep their last good value. "
        "Check the key in Sentry (Project Settings > Client Keys) and that sentryUrl reaches Sentry itself"
    )


def _quoted(dsn: str) -> str:
    """The DSN as a message may quote it: without a password, printable, and short."""
    text = repr(redacted_url(dsn))
    return text if len(text) <= 120 else text[:117] + "..."
