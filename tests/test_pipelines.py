"""The pipeline examples are valid YAML and carry the schedules README's "Keeping Vault in sync" describes."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

PIPELINES = Path(__file__).resolve().parents[1] / "docs" / "pipelines"
CRON = re.compile(r"^(\S+\s+){4}\S+$")


def load(name: str) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((PIPELINES / name).read_text(encoding="utf-8"))
    return document


def github_triggers(workflow: dict[str, Any]) -> dict[str, Any]:
    # YAML 1.1 reads the bare key `on` as the boolean true.
    triggers: dict[str, Any] = workflow.get("on") or workflow[True]
    return triggers


def github_steps_by_name(workflow: dict[str, Any]) -> dict[str, dict[str, Any]]:
    (job,) = workflow["jobs"].values()
    return {step["name"]: step for step in job["steps"] if "name" in step}


@pytest.mark.parametrize("name", ["github-actions.yml", "github-actions-teams.yml"])
def test_github_schedules_an_apply_on_the_default_branch_and_a_drift_alarm(name: str) -> None:
    workflow = load(name)
    crons = [entry["cron"] for entry in github_triggers(workflow)["schedule"]]
    assert len(crons) == 2 and all(CRON.match(cron) for cron in crons)
    apply_cron, drift_cron = crons
    steps = github_steps_by_name(workflow)

    alarm = steps["Drift alarm"]
    assert alarm["if"] == f"github.event.schedule == '{drift_cron}'"
    assert "pulumi preview --diff --expect-no-changes" in alarm["run"]
    apply = steps["Apply"]
    # Scheduled runs check out the default branch, so the apply runs on the apply schedule (and on push)...
    assert "github.ref == 'refs/heads/main'" in apply["if"] and apply_cron not in apply["if"]
    # ...but never on the drift alarm's.
    assert f"github.event.schedule != '{drift_cron}'" in apply["if"]
    assert "pulumi up --yes" in apply["run"]
    assert "workflow_dispatch" in github_triggers(workflow)


@pytest.mark.parametrize("name", ["gitlab-ci.yml", "gitlab-ci-teams.yml"])
def test_gitlab_schedules_run_apply_and_drift_alarm_by_their_sync_job_variable(name: str) -> None:
    pipeline = load(name)
    apply_rules = [rule["if"] for rule in pipeline["apply"]["rules"]]
    assert apply_rules[0] == '$CI_PIPELINE_SOURCE == "schedule" && $SYNC_JOB == "apply"'
    # Any other schedule (the drift alarm's) must not apply.
    assert pipeline["apply"]["rules"][1] == {"if": '$CI_PIPELINE_SOURCE == "schedule"', "when": "never"}
    assert "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH" in apply_rules
    assert any("pulumi up --yes" in line for line in pipeline["apply"]["script"])

    alarm = pipeline["drift-alarm"]
    assert [rule["if"] for rule in alarm["rules"]] == ['$CI_PIPELINE_SOURCE == "schedule" && $SYNC_JOB == "drift"']
    assert alarm["script"] == ['pulumi preview --diff --expect-no-changes --stack "$STACK"']


def test_gitlab_names_the_two_schedules_to_create_with_valid_crons() -> None:
    text = (PIPELINES / "gitlab-ci.yml").read_text(encoding="utf-8")
    schedules = re.findall(r'cron "([^"]+)",.*SYNC_JOB=(\w+)', text)
    assert [job for _, job in schedules] == ["apply", "drift"]
    assert all(CRON.match(cron) for cron, _ in schedules)
    # The same cadence as the GitHub example, so README describes both at once.
    github = [entry["cron"] for entry in github_triggers(load("github-actions.yml"))["schedule"]]
    assert [cron for cron, _ in schedules] == github


def test_the_team_examples_run_one_stack_per_team_in_parallel_each_with_its_own_state() -> None:
    github = load("github-actions-teams.yml")
    (job,) = github["jobs"].values()
    teams = job["strategy"]["matrix"]["team"]
    assert len(teams) > 1 and job["strategy"]["fail-fast"] is False
    assert job["env"]["STACK"].endswith("team-${{ matrix.team }}")
    assert job["concurrency"].endswith("${{ matrix.team }}")

    gitlab = load("gitlab-ci-teams.yml")
    (matrix,) = gitlab[".sync"]["parallel"]["matrix"]
    assert matrix["TEAM"] == teams
    assert gitlab[".sync"]["variables"]["STACK"].endswith("team-$TEAM")
    assert gitlab["apply"]["resource_group"].endswith("$TEAM")
