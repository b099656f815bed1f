"""The benchmark's floor: `floor:count` trivial dynamic resources and a map of their ids.

The tool's program exports a map with one entry per project; this one does the
same, so the two runs differ only in what each provider call does.

With `floor:streamed` set, the program is built the way the tool's is: async,
giving the event loop a turn after each resource, so that each registration
reaches the engine at once (see `SentryDsnSync.create_async`). The benchmark
measures the tool against both, so that a gain from how the program hands its
resources to the engine is not mistaken for a cheaper resource.
"""

import asyncio

import pulumi

from floor_provider import Noop

config = pulumi.Config()
count = config.require_int("count")


def ids(resources: list[Noop]) -> pulumi.Output[list[str]]:
    return pulumi.Output.all(*[resource.id for resource in resources])


async def streamed() -> pulumi.Inputs:
    resources = []
    for index in range(count):
        resources.append(Noop(f"noop-{index:04d}", index))
        await asyncio.sleep(0)
    return {"ids": ids(resources)}


if config.get_bool("streamed"):
    pulumi.run(streamed)
else:
    pulumi.export("ids", ids([Noop(f"noop-{index:04d}", index) for index in range(count)]))
