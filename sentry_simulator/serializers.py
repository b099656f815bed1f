"""Response bodies shaped like Sentry's serializers, field for field.

Each function returns exactly the properties the OpenAPI schema of its
operation declares (every `required` one, typed and nullable as declared), so
a client built against the simulator reads real Sentry the same way. The
contract tests hold these shapes to the schema.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from .seed import format_timestamp
from .state import Key, Organization, Project, Team

__all__ = [
    "encode",
    "key_json",
    "key_json_bytes",
    "project_detail_json",
    "project_summary_json",
    "project_summary_json_bytes",
]

_BROWSER_SDK_CHOICES = [["latest", "latest"], ["9.x", "9.x"], ["8.x", "8.x"], ["7.x", "7.x"]]
_CDN_HOST = "js.sentry-cdn.com"


def key_json(key: Key, organization: Organization, *, superuser: bool = False) -> dict[str, Any]:
    """A client key as `ProjectKeySerializer` renders it; `useCase` only for a superuser, as Sentry does.

    Cached per (key, organization): both are frozen, and a page of 100 keys is
    the simulator's hottest path in benchmarks. Callers must not mutate the dict.
    """
    return _key_json_for_superuser(key, organization) if superuser else _key_json(key, organization)


@lru_cache(maxsize=16384)
def key_json_bytes(key: Key, organization: Organization, *, superuser: bool = False) -> bytes:
    """The encoded key, cached: encoding dominates the cost of a 100-key page."""
    return encode(key_json(key, organization, superuser=superuser))


@lru_cache(maxsize=1024)
def _key_json_for_superuser(key: Key, organization: Organization) -> dict[str, Any]:
    return {**_key_json(key, organization), "useCase": "user"}


def encode(payload: Any) -> bytes:
    # Compact separators: pages of 100 keys are ~150 kB and every byte is copied.
    return json.dumps(payload, separators=(",", ":")).encode()


@lru_cache(maxsize=16384)
def _key_json(key: Key, organization: Organization) -> dict[str, Any]:
    return {
        "id": key.id,
        "name": key.label,
        "label": key.label,
        "public": key.public,
        "secret": key.secret,
        "projectId": key.project_id,
        "isActive": key.is_active,
        "rateLimit": (
            {"window": key.rate_limit.window, "count": key.rate_limit.count} if key.rate_limit else None
        ),
        "dsn": _dsn_json(key, organization),
        "browserSdkVersion": "9.x",
        "browserSdk": {"choices": _BROWSER_SDK_CHOICES},
        "dateCreated": format_timestamp(key.date_created),
        "dynamicSdkLoaderOptions": {
            "hasReplay": True,
            "hasPerformance": True,
            "hasDebug": False,
            "hasFeedback": False,
            "hasLogsAndMetrics": False,
        },
    }


def _dsn_json(key: Key, organization: Organization) -> dict[str, str]:
    scheme, host, pid, public = organization.dsn_scheme, organization.ingest_host, key.project_id, key.public
    api = f"{scheme}://{host}/api/{pid}"
    return {
        "secret": f"{scheme}://{public}:{key.secret}@{host}/{pid}",
        "public": f"{scheme}://{public}@{host}/{pid}",
        "csp": f"{api}/csp-report/?sentry_key={public}",
        "security": f"{api}/security/?sentry_key={public}",
        "minidump": f"{api}/minidump/?sentry_key={public}",
        "nel": f"{api}/nel/?sentry_key={public}",
        "unreal": f"{api}/unreal/{public}/",
        "crons": f"{api}/cron/___MONITOR_SLUG___/{public}/",
        "cdn": f"https://{_CDN_HOST}/{public}.min.js",
        "playstation": f"{api}/playstation/?sentry_key={public}",
        "integration": f"{api}/integration/",
        "otlp_traces": f"{api}/integration/otlp/v1/traces",
        "otlp_logs": f"{api}/integration/otlp/v1/logs",
    }


def project_summary_json(
    project: Project, *, access: list[str], is_member: bool = True, has_access: bool = True
) -> dict[str, Any]:
    """A project in a list (organization or team projects): `ProjectSummarySerializer`.

    `isMember` and `hasAccess` are the token's own: on one of the project's
    teams, and allowed to read it at all.
    """
    body = dict(_project_summary(project))
    body.update(access=access, isMember=is_member, hasAccess=has_access)
    return body


@lru_cache(maxsize=16384)
def project_summary_json_bytes(
    project: Project, access: tuple[str, ...], *, is_member: bool = True, has_access: bool = True
) -> bytes:
    return encode(project_summary_json(project, access=list(access), is_member=is_member, has_access=has_access))


def _project_basics(project: Project, *, access: list[str]) -> dict[str, Any]:
    """The fields Sentry's list and detail serializers of a project both render."""
    return {
        "id": str(project.id),
        "slug": project.slug,
        "name": project.name,
        "platform": project.platform,
        "dateCreated": format_timestamp(project.date_created),
        "isBookmarked": False,
        "isMember": True,
        "features": [],
        "firstEvent": None,
        "firstTransactionEvent": False,
        "access": access,
        "hasAccess": True,
        **_HAS_FLAGS,
    }


@lru_cache(maxsize=16384)
def _project_summary(project: Project) -> dict[str, Any]:
    return {
        "latestDeploys": None,
        "options": {},
        **_project_basics(project, access=[]),
        "team": _team_json(project.teams[0]) if project.teams else None,
        "teams": [_team_json(t) for t in project.teams],
        "platforms": [project.platform] if project.platform else [],
        "hasUserReports": False,
        "environments": ["production"],
        "latestRelease": None,
    }


def project_detail_json(
    project: Project, organization: Organization, *, access: list[str], base_url: str, is_member: bool = True
) -> dict[str, Any]:
    """One project as `DetailedProjectSerializer` renders it (getProject)."""
    body: dict[str, Any] = {
        **_project_basics(project, access=access),
        "isMember": is_member,
        "isInternal": False,
        "isPublic": False,
        "avatar": {"avatarType": "letter_avatar", "avatarUuid": None, "avatarUrl": None},
        "color": "#3f70bf",
        "status": project.status,
        "teams": [_team_json(t) for t in project.teams],
        "latestRelease": None,
        "options": {},
        "digestsMinDelay": 300,
        "digestsMaxDelay": 1800,
        "subjectPrefix": "",
        "allowedDomains": ["*"],
        "resolveAge": 0,
        "dataScrubber": True,
        "dataScrubberDefaults": True,
        "safeFields": [],
        "storeCrashReports": None,
        "sensitiveFields": [],
        "subjectTemplate": "$shortID - $title",
        "securityToken": f"{project.id:x}",
        "securityTokenHeader": None,
        "verifySSL": False,
        "scrubIPAddresses": False,
        "scrapeJavaScript": True,
        "enableAutoReleaseCreation": False,
        "highlightTags": [],
        "highlightContext": {},
        "highlightPreset": {"tags": [], "context": {}},
        "groupingConfig": "newstyle:2023-01-11",
        "derivedGroupingEnhancements": "",
        "groupingEnhancements": "",
        "secondaryGroupingExpiry": 0,
        "secondaryGroupingConfig": None,
        "fingerprintingRules": "",
        "organization": _organization_json(organization, base_url=base_url),
        "platforms": [project.platform] if project.platform else [],
        "processingIssues": 0,
        "defaultEnvironment": None,
        "relayPiiConfig": None,
        "builtinSymbolSources": [],
        "dynamicSamplingBiases": None,
        "symbolSources": "[]",
        "isDynamicallySampled": False,
        "tempestFetchScreenshots": False,
        "autofixAutomationTuning": "off",
        "seerScannerAutomation": False,
        "seerNightshiftTweaks": {},
        "scmSourceContextEnabled": False,
        "debugFilesRole": None,
    }
    if project.teams:
        body["team"] = _team_json(project.teams[0])
    return body


_HAS_FLAGS: dict[str, bool] = {
    name: False
    for name in (
        "hasFeedbacks",
        "hasFlags",
        "hasMinifiedStackTrace",
        "hasMonitors",
        "hasNewFeedbacks",
        "hasProfiles",
        "hasReplays",
        "hasSessions",
        "hasInsightsHttp",
        "hasInsightsDb",
        "hasInsightsAssets",
        "hasInsightsAppStart",
        "hasInsightsScreenLoad",
        "hasInsightsVitals",
        "hasInsightsCaches",
        "hasInsightsQueues",
        "hasInsightsAgentMonitoring",
        "hasInsightsMCP",
        "hasLogs",
        "hasTraceMetrics",
    )
}


def _team_json(team: Team) -> dict[str, str]:
    return {"id": str(team.id), "name": team.name, "slug": team.slug}


def _organization_json(organization: Organization, *, base_url: str) -> dict[str, Any]:
    return {
        "features": [],
        "extraOptions": {},
        "access": [],
        "onboardingTasks": [],
        "id": str(organization.id),
        "slug": organization.slug,
        "status": {"id": "active", "name": "active"},
        "name": organization.name,
        "dateCreated": format_timestamp(organization.date_created),
        "isEarlyAdopter": False,
        "require2FA": False,
        "avatar": {"avatarType": "letter_avatar", "avatarUuid": None, "avatarUrl": None},
        "links": {"organizationUrl": base_url, "regionUrl": base_url},
        "hasAuthProvider": False,
        "allowMemberInvite": True,
        "allowMemberProjectCreation": True,
        "allowSuperuserAccess": False,
    }
