"""The contract tests validate against a copy of Sentry's official schema subset; it must stay that copy, byte for byte."""

from __future__ import annotations

import hashlib

from simulator_helpers import SPEC_PATH

# SHA-256 of the official subset when it was copied in; an edit to the copy must be a deliberate re-copy.
OFFICIAL_SHA256 = "aed8c13f2dfb4f5357d5151be7fd572af4394b1ac73547a83a8239ea5ff595f6"


def test_the_schema_copy_is_the_official_schema_subset() -> None:
    assert hashlib.sha256(SPEC_PATH.read_bytes()).hexdigest() == OFFICIAL_SHA256
