"""Render one service's Sentry SDK config from what a sentry-dsn-sync stack published.

The producer stack owns the DSNs; this stack only reads them through a
`StackReference`, so a key rotation reaches the service by re-running
`pulumi up` here after the producer's `up`, with no token or Vault access.
"""

from __future__ import annotations

from typing import Any

import pulumi

PRODUCER_PROJECT = "sentry-dsn-sync"

config = pulumi.Config()
producer_stack = config.require("producerStack")
# A DIY backend (file, S3, ...) names every stack `organization/<project>/<stack>`;
# on Pulumi Cloud the first part is your organization.
producer_org = config.get("producerOrganization") or "organization"
project = config.require("project")
environment = config.get("environment") or pulumi.get_stack()

qualified = producer_stack if "/" in producer_stack else f"{producer_org}/{PRODUCER_PROJECT}/{producer_stack}"
producer = pulumi.StackReference(qualified)


def sdk_config(dsns: Any) -> dict[str, str]:
    """`sentry_sdk.init(**sentryConfig)` material: the public DSN and the environment."""
    if not isinstance(dsns, dict) or project not in dsns:
        published = ", ".join(sorted(dsns)) if isinstance(dsns, dict) else "nothing"
        # RunError: Pulumi prints the message alone, without a traceback through its runtime.
        raise pulumi.RunError(
            f"stack {qualified} publishes no DSN for Sentry project '{project}' (it publishes: {published}); "
            f"add '{project}' to that stack's `projects` config and run `pulumi up` there"
        )
    return {"dsn": dsns[project], "environment": environment}


pulumi.export("sentryConfig", producer.require_output("dsns").apply(sdk_config))
