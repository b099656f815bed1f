"""A dynamic provider that does nothing, so a run of it costs only what the engine costs.

It lives in its own importable module (not in the program's `__main__`) for
the same reason the tool's provider does: dill then pickles it by reference,
so the `__provider` in state is as small as the engine allows. It captures no
secret, so, like the tool's provider, it opts out of encrypting that pickle.
"""

from __future__ import annotations

from typing import Any

import pulumi
from pulumi.dynamic import CheckResult, CreateResult, Resource, ResourceProvider, UpdateResult

__all__ = ["Noop", "NoopProvider", "PaddedNoopProvider", "padding_fields"]

PADDING_FIELDS = 12


class NoopProvider(ResourceProvider):
    # The defaults of check() and diff() are kept: the engine's own input diff is the floor.
    serialize_as_secret_always = False

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(id_=f"noop-{props['index']}", outs=props)

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(outs=news)


class PaddedNoopProvider(NoopProvider):
    """The floor whose resources are as large as the tool's: as the tool's provider does, its
    check spreads the one object input the program sends (`spec`) into inputs of their own."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        spread = {key: value for key, value in news.items() if key != "spec"}
        return CheckResult(inputs={**spread, **news.get("spec", {})}, failures=[])


class Noop(Resource, module="bench-floor", name="Noop"):
    index: pulumi.Output[int]

    def __init__(self, name: str, index: int, *, revision: int | None = None, padding: int = 0,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        props: dict[str, Any] = {"index": index}
        # `revision` only where set, so the unchanged resources' state stays as small as before.
        if revision is not None:
            props["revision"] = revision
        provider = NoopProvider()
        if padding > 0:
            # One object, as the tool's program sends its inputs: the program's cost stays that of one input.
            props["spec"] = padding_fields(padding)
            provider = PaddedNoopProvider()
        super().__init__(provider, name, props, opts)


def padding_fields(size: int) -> dict[str, str]:
    """Twelve string inputs (as many as a project's) that add about `size` bytes to a resource's state.

    The state holds each field twice, as `"padNN":"<value>",` in the inputs and
    in the outputs: 11 bytes beside the value each time.
    """
    if size <= 0:
        return {}
    length = max(1, size // (2 * PADDING_FIELDS) - 11)
    return {f"pad{number:02d}": "x" * length for number in range(PADDING_FIELDS)}
