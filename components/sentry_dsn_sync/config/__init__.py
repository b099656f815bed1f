"""Stack configuration and environment -> typed, validated settings.

Three parts: the settings types every layer imports (`_settings`), parsing and
its messages (`_parse`), and reading Pulumi's config (`_pulumi`). Each lists its
public names in its own `__all__`; this package offers exactly those.
"""

from sentry_dsn_sync.config import _parse, _pulumi, _settings
from sentry_dsn_sync.config._parse import *  # noqa: F403
from sentry_dsn_sync.config._pulumi import *  # noqa: F403
from sentry_dsn_sync.config._settings import *  # noqa: F403

__all__ = sorted([*_settings.__all__, *_parse.__all__, *_pulumi.__all__])
