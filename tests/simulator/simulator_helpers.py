"""Helpers shared by the simulator's tests (a module, so tests can import them)."""

from __future__ import annotations

import ssl
from pathlib import Path

import httpx

__all__ = ["EXTRA_TOKENS", "SPEC_PATH", "link_entries", "sentry_client"]

# The subset of Sentry's OpenAPI schema the tool relies on, kept in the repository
# so CI on a clean clone checks the same schema.
SPEC_PATH = Path(__file__).with_name("openapi-subset.json")

# Tokens the demo seed lacks, to reach the 403 paths.
EXTRA_TOKENS = [
    {"token": "org-only-token", "scopes": ["org:read"]},
    {"token": "project-only-token", "scopes": ["project:read"]},
    {"token": "admin-scopes-token", "scopes": ["org:admin", "project:write"]},
]


# Building an SSL context per client costs ~30 ms; the tests make hundreds of clients.
_SSL_CONTEXT = ssl.create_default_context()


def sentry_client(base_url: str, token: str | None = "demo-token") -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=base_url, headers=headers, timeout=10, verify=_SSL_CONTEXT)


def link_entries(header: str) -> dict[str, dict[str, str]]:
    """`Link` parsed into {rel: {"url", "results", "cursor"}}; strict about the format."""
    entries: dict[str, dict[str, str]] = {}
    for part in header.split(", "):
        url_part, *params = part.split("; ")
        assert url_part.startswith("<") and url_part.endswith(">"), part
        attrs = {}
        for param in params:
            name, _, value = param.partition("=")
            assert value.startswith('"') and value.endswith('"'), param
            attrs[name] = value[1:-1]
        entries[attrs["rel"]] = {"url": url_part[1:-1], "results": attrs["results"], "cursor": attrs["cursor"]}
    return entries
