"""What a message, a log line or the state may show of a value that could hold a secret.

Every place that quotes a URL or echoes a server's text goes through these two
functions, so there is one rule for what gets masked and how it looks (`***`).
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

__all__ = ["MASK", "redacted_url", "scrubbed"]

MASK = "***"


def redacted_url(text: str) -> str:
    """`text` with the password of a `user:password@host` URL masked; anything else unchanged."""
    if "@" not in text:
        return text  # no user part, so no password: the common case, without parsing
    try:
        parts = urlsplit(text)
        password = parts.password
    except ValueError:
        return text  # not a URL: nothing in it is a password field
    if password is None:
        return text
    host = parts.netloc.rsplit("@", 1)[1]
    return parts._replace(netloc=f"{parts.username}:{MASK}@{host}").geturl()


def scrubbed(text: str, secrets: Iterable[str]) -> str:
    """`text` with every occurrence of each non-empty secret masked, e.g. a token a server echoed back."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, MASK)
    return text
