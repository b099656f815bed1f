"""What a slug and a secret path may look like, so that nothing is written outside its mount.

A Vault path is built from config (`vault.mount`, `vault.pathTemplate`, a
project's `path`) and from slugs, some of which come from Sentry itself (team
discovery). A `..` segment, an absolute path or a slug with a `/` in it would
move a secret into another mount or a nested path, so every piece is checked
here against one rule before it reaches Vault.
"""

from __future__ import annotations

import re

__all__ = ["SLUG_RULE", "is_slug", "path_problem"]

# Sentry's slug grammar: lowercase letters, digits, '-' and '_', not all digits, at most 50 long.
_SLUG = re.compile(r"(?![0-9]+\Z)[a-z0-9_-]{1,50}\Z")
SLUG_RULE = "lowercase letters, digits, '-' and '_', not only digits, at most 50 characters"
# Characters no path may hold: control characters hide what a path really is.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def is_slug(value: object) -> bool:
    """Whether `value` is a string Sentry could use as an organization, team or project slug."""
    return isinstance(value, str) and _SLUG.match(value) is not None


def path_problem(path: str) -> str | None:
    """Why `path` cannot name a secret below a mount (None when it can).

    A trailing `/` is tolerated (Vault ignores it); everything that could
    climb out of the mount or hide a segment is not.
    """
    if not path.strip("/"):
        return "is empty"
    if path.startswith("/"):
        return "is absolute (starts with '/'); give it relative to the mount"
    if _CONTROL.search(path):
        return "contains control characters"
    segments = path.rstrip("/").split("/")
    if "" in segments:
        return "has an empty segment ('//')"
    if ".." in segments:
        return "has a '..' segment, which would leave the mount"
    if "." in segments:
        return "has a '.' segment"
    return None
