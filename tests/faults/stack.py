"""One real stack that the fault suite breaks and repairs: the real `pulumi` CLI, the Sentry
simulator and a real OpenBao, with the invariants every fault must leave intact.

Every secret starts with a field and custom metadata of someone else's, so a
fault that clobbers what the tool does not own is caught as surely as one that
blanks what it does own.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hvac
import hvac.exceptions

from devenv.pulumi_cli import PulumiProject, copy_project
from sentry_dsn_sync.sentry import dsn_problem
from sentry_simulator.testing import RunningSimulator
from tests.faults.ledger import LEDGER

STACK = "faults"
ORG = "acme"
TOKEN = "fault-token-3f9a2c"
PROJECTS = ("alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel")
TEAM = "crew"
FOREIGN_FIELD = {"owner": "team-payments"}
FOREIGN_METADATA = {"cost-center": "cc-42"}


def fault_seed() -> dict[str, Any]:
    """An organization of eight projects with one key each; `crew` owns three of them."""
    projects = [
        {
            "slug": slug,
            "id": 4600000000000100 + index,
            "name": slug.title(),
            "dateCreated": "2024-01-01T00:00:00Z",
            "keys": [{"label": "Default", "isActive": True, "dateCreated": "2024-01-01T00:00:00Z"}],
        }
        for index, slug in enumerate(PROJECTS, start=1)
    ]
    return {
        "organizations": [
            {
                "slug": ORG,
                "id": 4600000000000001,
                "name": "Acme",
                "dateCreated": "2023-01-01T00:00:00Z",
                "teams": [{"slug": TEAM, "id": 201, "name": "Crew", "projects": ["foxtrot", "golf", "hotel"]}],
                "projects": projects,
            }
        ],
        "tokens": [{"token": TOKEN, "scopes": ["org:read", "project:read"]}],
    }


def said(result: subprocess.CompletedProcess[str]) -> str:
    return result.stdout + result.stderr


@dataclass
class FaultStack:
    """The stack under attack, what it last published, and every text a leak could hide in."""

    pulumi: PulumiProject
    sentry: RunningSimulator
    root: Callable[[], hvac.Client]
    mount: str
    projects: tuple[str, ...]
    credentials: list[str]
    outputs: list[str] = field(default_factory=list)
    last_good: dict[str, dict[str, str]] = field(default_factory=dict)

    @classmethod
    def create(
        cls, tmp: Path, *, bin_dir: Path, sentry: RunningSimulator, vault_address: str, root_token: str,
        root: Callable[[], hvac.Client], mount: str, projects: tuple[str, ...] = PROJECTS,
    ) -> FaultStack:
        pulumi = PulumiProject(
            project_dir=copy_project(tmp / "project"),
            backend_dir=tmp / "state",
            bin_dir=bin_dir,
            extra_env={"SENTRY_URL": sentry.url, "VAULT_ADDR": vault_address, "VAULT_TOKEN": root_token},
        )
        stack = cls(pulumi, sentry, root, mount, projects, credentials=[TOKEN, root_token])
        pulumi.init_stack(STACK)
        # The token as README tells users to store it: a Pulumi secret in the stack config.
        pulumi.set_config(STACK, "sentry-dsn-sync:sentryToken", TOKEN, secret=True)
        stack.configure(organization=ORG, projects=list(projects), vault={"mount": mount})
        for slug in projects:
            client = root()
            client.secrets.kv.v2.create_or_update_secret(path=stack.path(slug), secret=FOREIGN_FIELD, mount_point=mount)
            client.secrets.kv.v2.update_metadata(path=stack.path(slug), custom_metadata=FOREIGN_METADATA, mount_point=mount)
        stack.converge()
        return stack

    # -- driving the CLI -----------------------------------------------------------------------

    def configure(self, **values: Any) -> None:
        for key, value in values.items():
            self.pulumi.set_config(STACK, f"sentry-dsn-sync:{key}", value)

    def run(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        result = self.pulumi.run(*args, check=False, env=env)
        self.outputs.append(said(result))
        return result

    def up(self, *extra: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return self.run("up", "--yes", "--skip-preview", "--stack", STACK, *extra, env=env)

    def preview(self, *extra: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return self.run("preview", "--diff", "--stack", STACK, *extra, env=env)

    # -- what Sentry and Vault hold ------------------------------------------------------------

    def path(self, slug: str) -> str:
        return f"sentry/{ORG}/{slug}"

    def secret(self, slug: str) -> tuple[dict[str, Any], dict[str, str]] | None:
        """The secret's data and custom metadata as a root token sees them; None when absent."""
        try:
            response = self.root().secrets.kv.v2.read_secret_version(
                path=self.path(slug), mount_point=self.mount, raise_on_deleted_version=True
            )
        except hvac.exceptions.InvalidPath:
            return None
        data = response["data"]
        return dict(data["data"]), dict(data["metadata"].get("custom_metadata") or {})

    def active_keys(self, slug: str) -> list[Any]:
        """The project's active keys as the simulator holds them, untouched by tampering rules."""
        return self.sentry.simulator.state.project_keys(ORG, slug, status="active")

    def expected(self, slug: str) -> dict[str, str]:
        """The tool's fields for `slug` as the selection rule picks them from Sentry's real state."""
        key = max(self.active_keys(slug), key=lambda k: (k.date_created, k.seq))
        project = self.sentry.simulator.state.project(ORG, slug)
        assert project is not None
        organization = self.sentry.simulator.state.organization(ORG)
        assert organization is not None
        dsn = f"{organization.dsn_scheme}://{key.public}@{organization.ingest_host}/{project.id}"
        return {
            "dsn": dsn, "public_key": key.public, "project_id": str(project.id),
            "project_slug": slug, "organization": ORG, "key_id": key.id,
        }

    def key_secrets(self) -> list[str]:
        """Every key's secret part in the organization, active or not: none may appear anywhere."""
        secrets = []
        for project in self.sentry.simulator.state.projects(ORG):
            secrets += [key.secret for key in self.sentry.simulator.state.project_keys(ORG, project.slug)]
        return secrets

    # -- the invariants ------------------------------------------------------------------------

    def converge(self, *extra: str) -> None:
        """A run must succeed and publish exactly what Sentry says, keeping everyone else's data."""
        result = self.up(*extra)
        assert result.returncode == 0, said(result)
        for slug in self.projects:
            found = self.secret(slug)
            assert found is not None, f"{slug} has no secret after converging"
            data, metadata = found
            assert data == {**FOREIGN_FIELD, **self.expected(slug)}, (slug, data)
            assert {**metadata, **FOREIGN_METADATA} == metadata, (slug, metadata)
            self.last_good[slug] = self.expected(slug)

    def check_after_fault(self, result: subprocess.CompletedProcess[str], *, cause: str, failed: bool = True) -> None:
        """What must hold after any fault, whatever it broke."""
        text = said(result)
        if failed:
            assert result.returncode != 0, text
        assert cause in text, f"the error does not name the cause {cause!r}:\n{text}"
        assert "Traceback (most recent call last)" not in text, text
        for slug in self.projects:
            self._check_secret(slug)
        exported = self.run("stack", "export", "--stack", STACK)
        assert exported.returncode == 0, said(exported)
        json.loads(exported.stdout)

    def _check_secret(self, slug: str) -> None:
        found = self.secret(slug)
        if found is None:
            LEDGER.secrets_lost += 1
            raise AssertionError(f"{slug}'s secret is gone")
        data, metadata = found
        tool = {name: data.get(name) for name in self.last_good[slug]}
        if tool != self.last_good[slug] and not self._valid_for_active_key(slug, tool):
            LEDGER.secrets_lost += 1
            raise AssertionError(f"{slug}'s secret holds neither the last good value nor an active key's: {tool}")
        assert {name: data.get(name) for name in FOREIGN_FIELD} == FOREIGN_FIELD, (slug, data)
        assert {name: metadata.get(name) for name in FOREIGN_METADATA} == FOREIGN_METADATA, (slug, metadata)

    def _valid_for_active_key(self, slug: str, tool: dict[str, Any]) -> bool:
        project = self.sentry.simulator.state.project(ORG, slug)
        for key in self.active_keys(slug):
            if project is not None and tool.get("key_id") == key.id and tool.get("public_key") == key.public:
                dsn = tool.get("dsn")
                return isinstance(dsn, str) and dsn_problem(dsn, public_key=key.public, project_id=project.id) is None
        return False

    def scan_for_leaks(self) -> list[str]:
        """Every credential and key secret that shows in a CLI output, the export or a file of the backend.

        The export is the plain one: `--show-secrets` would decrypt the stack
        config's secrets on purpose (README, "What reaches state").
        """
        exported = self.run("stack", "export", "--stack", STACK)
        texts = [*self.outputs, said(exported)]
        root = self.pulumi.backend_dir.parent
        for path in root.rglob("*"):
            if path.is_file() and path.stat().st_size < 5_000_000 and "plugins" not in path.parts:
                texts.append(path.read_text(errors="replace"))
        needles = [*self.credentials, *self.key_secrets()]
        found = [needle[:6] + "..." for needle in needles if any(needle in text for text in texts)]
        LEDGER.leaks += len(found)
        return found
