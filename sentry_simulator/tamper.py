"""Hostile payloads: Sentry answers whose items were altered, for clients that must not trust them.

A rule rewrites, in every successful JSON answer whose path contains
`path_contains`, each object (the body, or an item of a list body) whose
top-level fields equal `match`: it sets the dotted fields of `set` (`dsn.public`
reaches into the `dsn` object) and removes those of `drop`. A key whose DSN
points elsewhere, a project slug with `../` in it or a key without `public`
are one rule each. Rules stay until cleared.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from .messages import Response

__all__ = ["TamperRule", "Tamperer", "parse_tamper_rule"]


@dataclass(frozen=True)
class TamperRule:
    match: Mapping[str, Any]
    set: Mapping[str, Any]
    drop: tuple[str, ...] = ()
    path_contains: str = ""


def parse_tamper_rule(raw: Any) -> TamperRule:
    """The rule of one POST /_admin/tamper body; ValueError names what is wrong."""
    if not isinstance(raw, Mapping) or set(raw) - {"match", "set", "drop", "path_contains"}:
        raise ValueError("expected {'match': {...}, 'set': {...}, 'drop': [...], 'path_contains': '...'}")
    match, values, drop = raw.get("match"), raw.get("set", {}), raw.get("drop", [])
    if not isinstance(match, Mapping) or not match or not isinstance(values, Mapping):
        raise ValueError("'match' must be a non-empty object and 'set' an object")
    if not isinstance(drop, list) or not all(isinstance(name, str) for name in drop):
        raise ValueError("'drop' must be a list of field names")
    if not values and not drop:
        raise ValueError("nothing to do: give 'set' or 'drop'")
    path_contains = raw.get("path_contains", "")
    if not isinstance(path_contains, str):
        raise ValueError("'path_contains' must be a string")
    return TamperRule(match=dict(match), set=dict(values), drop=tuple(drop), path_contains=path_contains)


class Tamperer:
    """The standing rules, shared by all request threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[TamperRule] = []

    def add(self, rule: TamperRule) -> None:
        with self._lock:
            self._rules.append(rule)

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def describe(self) -> list[dict[str, Any]]:
        with self._lock:
            return [{"match": dict(r.match), "set": dict(r.set), "drop": list(r.drop),
                     "path_contains": r.path_contains} for r in self._rules]

    def apply(self, path: str, response: Response) -> Response:
        with self._lock:
            rules = [rule for rule in self._rules if rule.path_contains in path]
        if not rules or response.status != 200 or response.content_type != "application/json":
            return response
        body = json.loads(response.body)
        items = body if isinstance(body, list) else [body]
        for item in items:
            for rule in rules:
                if isinstance(item, dict) and all(item.get(k) == v for k, v in rule.match.items()):
                    _rewrite(item, rule)
        return replace(response, body=json.dumps(body, separators=(",", ":")).encode())


def _rewrite(item: dict[str, Any], rule: TamperRule) -> None:
    for dotted, value in rule.set.items():
        *parents, name = dotted.split(".")
        target = item
        for parent in parents:
            target = target.setdefault(parent, {})
        target[name] = value
    for name in rule.drop:
        item.pop(name, None)
