"""The benchmark's padded floor, run by the real `pulumi` CLI: as large in state as asked, and it rotates.

The benchmark sets the tool's rotation beside a floor whose resources carry the
tool's state bytes (bench/README.md, "What runs"); that comparison means
something only if the padding lands in state as the tool's inputs do (spread
into inputs of their own by the provider's check, repeated in the outputs) and
the floor's `changed` resources are updated as the plain floor's are.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bench._run import _copy_floor
from devenv.pulumi_cli import PulumiProject

pytestmark = pytest.mark.e2e

STACK = "bench"
COUNT = 4
PADDING = 900


def floor(tmp_path: Path, pulumi_bin: Path, name: str, *, padding: int) -> PulumiProject:
    project_dir = _copy_floor(tmp_path / name / "project")
    project = PulumiProject(project_dir=project_dir, backend_dir=tmp_path / name / "state", bin_dir=pulumi_bin,
                            extra_env={"PYTHONPATH": str(project_dir)})
    project.init_stack(STACK)
    project.set_config(STACK, "count", COUNT)
    if padding:
        project.set_config(STACK, "padding", padding)
    return project


def noops(state: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for r in state["deployment"]["resources"] if r["type"].endswith("Noop")]


def compact_size(value: object) -> int:
    return len(json.dumps(value, separators=(",", ":")))


def test_the_padded_floor_carries_the_bytes_asked_for_as_inputs_of_their_own_and_rotates(
    tmp_path: Path, pulumi_bin: Path
) -> None:
    plain = floor(tmp_path, pulumi_bin, "plain", padding=0)
    padded = floor(tmp_path, pulumi_bin, "padded", padding=PADDING)
    for project in (plain, padded):
        project.run("up", "--yes", "--skip-preview", "--stack", STACK)

    plain_state, padded_state = plain.export_state(STACK), padded.export_state(STACK)
    extra = (compact_size(padded_state) - compact_size(plain_state)) / COUNT
    # The padding, plus the program's one `spec` input among the property dependencies.
    assert PADDING - 30 <= extra <= PADDING + 30
    resource = noops(padded_state)[0]
    assert "spec" not in resource["inputs"], "spread by the check, as the tool's inputs are"
    pads = sorted(key for key in resource["inputs"] if key.startswith("pad"))
    assert len(pads) == 12
    assert all(resource["outputs"][key] == resource["inputs"][key] for key in pads)

    padded.set_config(STACK, "changed", 2)
    padded.run("up", "--yes", "--skip-preview", "--stack", STACK)

    revisions = {r["urn"].rsplit("::", 1)[-1]: r["outputs"].get("revision") for r in noops(padded.export_state(STACK))}
    assert revisions == {"noop-0000": 1, "noop-0001": 1, "noop-0002": None, "noop-0003": None}
