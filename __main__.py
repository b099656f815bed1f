"""The sentry-dsn-sync program: stack config -> SentryDsnSync -> stack outputs."""

import pulumi

from components import SentryDsnSync, SentryDsnSyncArgs, SentryDsnSyncError, load_settings

try:
    sync = SentryDsnSync("sentry-dsn-sync", SentryDsnSyncArgs(settings=load_settings()))
except SentryDsnSyncError as exc:
    # A clean message, no traceback: every such error names the culprit and the fix.
    raise pulumi.RunError(str(exc)) from None

pulumi.export("dsns", sync.dsns)
pulumi.export("projects", sync.projects)
