"""The rules for a base URL to call (Sentry's or Vault's address), shared by config parsing and the clients."""

from __future__ import annotations

from urllib.parse import urlsplit

__all__ = ["base_url_problem", "http_url_problem"]


def http_url_problem(url: str) -> str | None:
    """Why `url` is not an http(s) URL with a host (None: it is), phrased to follow the quoted URL."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - reading the port is what rejects e.g. `host:abc`
    except ValueError:
        return "is not a URL"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "is not an http(s) URL"
    return None


def base_url_problem(url: str) -> str | None:
    """`http_url_problem`, plus what config may not hold: credentials (they would reach state) or a query."""
    problem = http_url_problem(url)
    if problem is not None:
        return problem
    parts = urlsplit(url)
    if parts.username is not None or parts.password is not None:
        return "carries credentials (give the URL without them)"
    if parts.query or parts.fragment:
        return "has a query or fragment (give the base URL only)"
    return None
