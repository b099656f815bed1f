"""The sentry-dsn-sync program: stack config -> SentryDsnSync -> stack outputs."""

import pulumi

from sentry_dsn_sync import SentryDsnSync, SentryDsnSyncArgs, SentryDsnSyncError, load_settings


async def main() -> pulumi.Inputs:
    # Async so that each project reaches the engine as soon as it is built
    # (see SentryDsnSync.create_async).
    try:
        sync = await SentryDsnSync.create_async("sentry-dsn-sync", SentryDsnSyncArgs(settings=load_settings()))
    except SentryDsnSyncError as exc:
        # A clean message, no traceback: every such error names the culprit and the fix.
        raise pulumi.RunError(str(exc)) from None
    return {"dsns": sync.dsns, "projects": sync.projects}


pulumi.run(main)
