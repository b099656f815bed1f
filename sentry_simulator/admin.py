"""The `/_admin/` API: how tests and the demo change the simulated world.

Not part of Sentry and unauthenticated on purpose: it only ever listens on
loopback in tests. It does what a person would do in Sentry's UI (rotate a
key, disable one) plus what no UI offers (scripted outages, request counts).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from urllib.parse import unquote

from .faults import FaultInjector, InvalidFault, parse_fault_request
from .limits import RateLimits
from .messages import Request, Response, detail_response, json_response
from .metrics import RequestCounter
from .seed import parse_timestamp
from .serializers import key_json
from .state import SimulatorState, UnknownResource
from .tamper import Tamperer, parse_tamper_rule
from .traffic import parse_traffic

__all__ = ["AdminApi"]

_KEYS = re.compile(r"^/_admin/projects/([^/]+)/([^/]+)/keys/?$")
_KEY = re.compile(r"^/_admin/projects/([^/]+)/([^/]+)/keys/([^/]+)/?$")
_TRAFFIC = re.compile(r"^/_admin/projects/([^/]+)/([^/]+)/traffic/?$")
_RENAME = re.compile(r"^/_admin/projects/([^/]+)/([^/]+)/rename/?$")


class AdminApi:
    def __init__(
        self,
        *,
        state: SimulatorState,
        faults: FaultInjector,
        rate: RateLimits,
        counter: RequestCounter,
        tamper: Tamperer | None = None,
    ) -> None:
        self._tamper = tamper or Tamperer()
        self._state = state
        self._faults = faults
        self._rate = rate
        self._counter = counter
        self._fixed: dict[tuple[str, str], Callable[[Request], Response]] = {
            ("GET", "/_admin/health"): lambda _: json_response(200, {"status": "ok"}),
            ("GET", "/_admin/faults"): lambda _: json_response(200, self._describe_faults()),
            ("POST", "/_admin/faults"): self._add_fault,
            ("POST", "/_admin/faults/clear"): self._clear_faults,
            ("GET", "/_admin/requests"): lambda _: json_response(200, self._counter.snapshot()),
            ("POST", "/_admin/requests/reset"): self._reset_requests,
            ("POST", "/_admin/reset"): self._reset,
            ("POST", "/_admin/tamper"): self._add_tamper,
            ("POST", "/_admin/tamper/clear"): self._clear_tamper,
        }

    def handle(self, request: Request, route_path: str) -> Response:
        try:
            return self._dispatch(request, route_path.rstrip("/") or "/")
        except UnknownResource as exc:
            return detail_response(404, str(exc))
        except (InvalidFault, ValueError) as exc:
            # json.JSONDecodeError is a ValueError too: a bad body is the caller's error.
            return detail_response(400, str(exc))

    def _dispatch(self, request: Request, path: str) -> Response:
        fixed = self._fixed.get((request.method, path))
        if fixed is not None:
            return fixed(request)
        if request.method == "POST" and (found := _KEYS.match(path)):
            return self._create_key(request, *(unquote(g) for g in found.groups()))
        if request.method == "POST" and (found := _RENAME.match(path)):
            return self._rename_project(request, *(unquote(g) for g in found.groups()))
        if request.method == "PUT" and (found := _KEY.match(path)):
            return self._update_key(request, *(unquote(g) for g in found.groups()))
        if request.method == "PUT" and (found := _TRAFFIC.match(path)):
            return self._set_traffic(request, *(unquote(g) for g in found.groups()))
        return detail_response(404, f"no admin endpoint {request.method} {path}")

    def _create_key(self, request: Request, org: str, project: str) -> Response:
        body = _object(request.json())
        label = body.get("label", "Default")
        active = body.get("isActive", True)
        created = body.get("dateCreated")
        if not isinstance(label, str) or not label or not isinstance(active, bool):
            raise ValueError("expected {'label': non-empty string, 'isActive': true|false, 'dateCreated'?: ISO time}")
        backdated = None if created is None else parse_timestamp(str(created), where="dateCreated")
        key = self._state.create_key(org, project, label=label, is_active=active, date_created=backdated)
        organization = self._state.organization(org)
        assert organization is not None  # create_key succeeded, so it exists
        return json_response(201, key_json(key, organization))

    def _update_key(self, request: Request, org: str, project: str, key_id: str) -> Response:
        active = _object(request.json()).get("isActive")
        if not isinstance(active, bool):
            raise ValueError("expected {'isActive': true|false}")
        key = self._state.set_key_active(org, project, key_id, active=active)
        organization = self._state.organization(org)
        assert organization is not None
        return json_response(200, key_json(key, organization))

    def _set_traffic(self, request: Request, org: str, project: str) -> Response:
        self._state.set_traffic(org, project, parse_traffic(request.json()))
        return json_response(200, {"status": "ok"})
    def _rename_project(self, request: Request, org: str, project: str) -> Response:
        slug = _object(request.json()).get("slug")
        if not isinstance(slug, str) or not slug:
            raise ValueError("expected {'slug': the project's new slug}")
        renamed = self._state.rename_project(org, project, slug)
        return json_response(200, {"id": str(renamed.id), "slug": renamed.slug, "previousSlug": project})

    def _add_fault(self, request: Request) -> Response:
        parsed = parse_fault_request(request.json())
        if parsed.rule is not None:
            self._faults.add(parsed.rule)
        if parsed.latency_ms is not None:
            self._faults.set_latency(parsed.latency_ms)
        if parsed.rate_limit is not None or parsed.rate_window is not None or parsed.concurrent_limit is not None:
            self._rate.configure(
                limit=parsed.rate_limit, window=parsed.rate_window, concurrent=parsed.concurrent_limit
            )
        return json_response(200, self._describe_faults())

    def _clear_faults(self, _: Request) -> Response:
        self._clear_conditions()
        return json_response(200, self._describe_faults())

    def _reset_requests(self, _: Request) -> Response:
        self._counter.reset()
        return json_response(200, self._counter.snapshot())

    def _reset(self, _: Request) -> Response:
        """Back to the seed: keys, faults, limits and the request counter."""
        self._state.reset()
        self._clear_conditions()
        self._counter.reset()
        return json_response(200, {"status": "reset"})

    def _add_tamper(self, request: Request) -> Response:
        self._tamper.add(parse_tamper_rule(request.json()))
        return json_response(200, {"rules": self._tamper.describe()})

    def _clear_tamper(self, _: Request) -> Response:
        self._tamper.clear()
        return json_response(200, {"rules": []})

    def _clear_conditions(self) -> None:
        self._tamper.clear()
        self._faults.clear()
        self._rate.restore_defaults()

    def _describe_faults(self) -> dict[str, object]:
        return {**self._faults.describe(), "concurrent_limit": self._rate.concurrent_override}


def _object(body: object) -> dict[str, object]:
    if not isinstance(body, dict):
        raise ValueError(f"expected a JSON object, got {json.dumps(body)[:40]}")
    return body
