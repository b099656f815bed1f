"""A dynamic provider that does nothing, so a run of it costs only what the engine costs.

It lives in its own importable module (not in the program's `__main__`) for
the same reason the tool's provider does: dill then pickles it by reference,
so the `__provider` in state is as small as the engine allows. It captures no
secret, so, like the tool's provider, it opts out of encrypting that pickle.
"""

from __future__ import annotations

from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, Resource, ResourceProvider, UpdateResult

__all__ = ["Noop", "NoopProvider"]


class NoopProvider(ResourceProvider):
    # The defaults of check() and diff() are kept: the engine's own input diff is the floor.
    serialize_as_secret_always = False

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(id_=f"noop-{props['index']}", outs=props)

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(outs=news)


class Noop(Resource, module="bench-floor", name="Noop"):
    index: pulumi.Output[int]

    def __init__(self, name: str, index: int, *, revision: int | None = None,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        # `revision` only where set, so the unchanged resources' state stays as small as before.
        props: dict[str, Any] = {"index": index} if revision is None else {"index": index, "revision": revision}
        super().__init__(NoopProvider(), name, props, opts)
