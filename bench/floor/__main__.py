"""The benchmark's floor: `floor:count` trivial dynamic resources and a map of their ids.

The tool's program exports a map with one entry per project; this one does the
same, so the two runs differ only in what each provider call does.
"""

import pulumi

from floor_provider import Noop

count = pulumi.Config().require_int("count")
resources = [Noop(f"noop-{index:04d}", index) for index in range(count)]
pulumi.export("ids", pulumi.Output.all(*[resource.id for resource in resources]))
