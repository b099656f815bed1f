"""Local stand-ins for a deploy pipeline: the Pulumi CLI, OpenBao and the Sentry simulator."""
