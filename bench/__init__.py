"""The sentry-dsn-sync benchmark: `make bench` (or `python -m bench`).

It runs the real `pulumi` CLI against the Sentry simulator and a real OpenBao,
next to a floor project of the same number of do-nothing dynamic resources, so
every figure it reports is a count taken outside the tool (simulator counter,
Vault audit log, /proc) or a ratio to the engine's own cost measured in the same
run. See bench/README.md.
"""

from __future__ import annotations

from bench.report import SizeResult, StepMeasure, render_report, sentry_request_goal

__all__ = ["SizeResult", "StepMeasure", "render_report", "sentry_request_goal"]
