"""What the benchmark runs at each N: keys per project, rotations, repeats, which first runs; pure functions only.

The large sizes decide the design: at N=5000 one first `up` that writes a
checkpoint after every step costs the engine tens of minutes (the floor's
first `up` grows with about N^1.9 that way), so `--sizes 5000` fits in its
time budget only with first runs under PULUMI_SKIP_CHECKPOINTS and fewer
no-op repeats; the checkpointed first run is compared only up to
`checkpointed_max`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = [
    "CHECKPOINTED_MAX",
    "FIRST_REPEATS",
    "LARGE",
    "LARGE_NOOP_REPEATS",
    "SizePlan",
    "TWO_KEYS_FROM",
    "keys_per_project_for",
    "rotation_count",
    "size_plan",
]

# From this N on, projects get two keys each (the 5000 projects with two keys), so key pages count.
TWO_KEYS_FROM = 5000
# From this N on, a no-op `up` is repeated at most LARGE_NOOP_REPEATS times.
LARGE = 2000
LARGE_NOOP_REPEATS = 2
# A first `up` needs fresh stacks and a fresh Vault mount each time: at most this many, at any N.
FIRST_REPEATS = 2
# Above this N the first `up` with a checkpoint after every step is not measured (quadratic in N).
CHECKPOINTED_MAX = 2000
ROTATED_SHARE = 0.01  # 1% of the keys rotate between the no-op and the rotation step


@dataclass(frozen=True)
class SizePlan:
    """The steps of one N: how many keys, how many rotate, how often a no-op repeats."""

    projects: int
    keys_per_project: int
    rotated: int
    noop_repeats: int
    # First `up`s (checkpoints skipped), each on fresh stacks; the fastest counts.
    first_repeats: int
    # Also a first `up` with checkpoints, on fresh stacks, for tool and floor.
    checkpointed_first: bool

    @property
    def keys(self) -> int:
        return self.projects * self.keys_per_project


def keys_per_project_for(n: int, override: int | None = None) -> int:
    """`override` when given (`--keys-per-project`), else 2 from N=5000 on and 1 below."""
    if override is not None:
        return override
    return 2 if n >= TWO_KEYS_FROM else 1


def rotation_count(keys: int) -> int:
    """1% of the keys, rounded up, at least one: each rotation is a new key in a project of its own."""
    return max(1, math.ceil(keys * ROTATED_SHARE))


def size_plan(n: int, *, repeat: int, keys_per_project: int | None = None,
              checkpointed_max: int = CHECKPOINTED_MAX) -> SizePlan:
    keys = keys_per_project_for(n, keys_per_project)
    return SizePlan(
        projects=n,
        keys_per_project=keys,
        # One new key per rotated project, so never more rotations than projects.
        rotated=min(n, rotation_count(n * keys)),
        noop_repeats=max(1, min(repeat, LARGE_NOOP_REPEATS) if n >= LARGE else repeat),
        first_repeats=max(1, min(repeat, FIRST_REPEATS)),
        checkpointed_first=n <= checkpointed_max,
    )
