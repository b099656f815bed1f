"""A Sentry REST API simulator for tests, demos and benchmarks (standard library only).

It serves the read endpoints sentry-dsn-sync calls, shaped by the official
OpenAPI schema, with Sentry's pagination, auth errors and rate-limit headers,
from a JSON seed; plus an `/_admin/` API to rotate keys, rename projects,
script per-key traffic and failures, and serve hostile payloads (`tamper.py`).
By default it behaves as real Sentry does, not as a friendlier server would: tokens act for users with team memberships (an org-wide key list
without `project=-1` covers only their teams), organization tokens carry only
`org:ci`, rate limits are per endpoint with Sentry's bare 429, and an old
project slug answers 302.
Run it with `python -m sentry_simulator`, or embed it with
`sentry_simulator.testing.running_simulator`.
"""

from __future__ import annotations

from .api import OPERATIONS
from .app import Simulator
from .seed import DEMO_SEED_PATH, Seed, SeedError, generate_seed, load_seed, merge_seeds, parse_seed
from .server import SimulatorServer, create_server
from .state import SimulatorState

__all__ = [
    "DEMO_SEED_PATH",
    "OPERATIONS",
    "Seed",
    "SeedError",
    "Simulator",
    "SimulatorServer",
    "SimulatorState",
    "create_server",
    "generate_seed",
    "load_seed",
    "merge_seeds",
    "parse_seed",
]
