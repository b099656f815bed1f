"""The benchmark's floor: `floor:count` trivial dynamic resources and a map of their ids.

The tool's program exports a map with one entry per project; this one does the
same, so the two runs differ only in what each provider call does.

With `floor:streamed` set, the program is built the way the tool's is: async,
giving the event loop a turn after each resource, so that each registration
reaches the engine at once (see `SentryDsnSync.create_async`). The benchmark
measures the tool against both, so that a gain from how the program hands its
resources to the engine is not mistaken for a cheaper resource.

`floor:changed` (default 0) gives that many resources, the first ones, a
new input: the floor's counterpart of the tool's rotation step, where as
many resources change and are updated. `floor:revision` (default 1) is that
input's value, so that raising it changes the same resources once more.

`floor:padding` (default 0) adds about that many bytes to each resource's
state, in twelve more string inputs that the program sends as one object and
the provider's check spreads out, as the tool's do (see `padding_fields`): a
floor whose state is as large as the tool's, so that what the engine spends
on the size of the state is measured apart from what the tool's calls cost.
"""

import asyncio

import pulumi

from floor_provider import Noop

config = pulumi.Config()
count = config.require_int("count")
changed = config.get_int("changed") or 0
revision = config.get_int("revision") or 1
padding = config.get_int("padding") or 0


def noop(index: int) -> Noop:
    return Noop(f"noop-{index:04d}", index, revision=revision if index < changed else None, padding=padding)


def ids(resources: list[Noop]) -> pulumi.Output[list[str]]:
    return pulumi.Output.all(*[resource.id for resource in resources])


async def streamed() -> pulumi.Inputs:
    resources = []
    for index in range(count):
        resources.append(noop(index))
        await asyncio.sleep(0)
    return {"ids": ids(resources)}


if config.get_bool("streamed"):
    pulumi.run(streamed)
else:
    pulumi.export("ids", ids([noop(index) for index in range(count)]))
