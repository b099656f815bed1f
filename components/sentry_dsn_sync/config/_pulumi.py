"""Reading this tool's namespace of the stack config: in the program, and in a provider process."""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sentry_dsn_sync.config._parse import named_key, parse_settings
from sentry_dsn_sync.config._settings import CONFIG_NAMESPACE, TOP_LEVEL_KEYS, Settings
from sentry_dsn_sync.errors import ConfigError

if TYPE_CHECKING:
    from pulumi.dynamic.config import Config as DynamicConfig

__all__ = ["decode_namespace", "load_settings", "provider_config"]

def decode_namespace(raw_config: Mapping[str, Any]) -> dict[str, Any]:
    """The values of this tool's namespace from a flat `namespace:key -> value` map.

    Pulumi hands structured config (lists, objects) over as JSON text, both to
    the program and to providers; this decodes it so both see the same values.
    """
    prefix = CONFIG_NAMESPACE + ":"
    values: dict[str, Any] = {}
    for full_key, value in raw_config.items():
        if not full_key.startswith(prefix):
            continue
        key = full_key[len(prefix) :]
        if isinstance(value, str) and value[:1] in ("[", "{"):
            try:
                value = json.loads(value)
            except json.JSONDecodeError as exc:
                raise ConfigError(
                    f"{named_key(key)}: not valid JSON ({exc.msg}); set structured values with `pulumi config set --path`"
                ) from exc
        values[key] = value
    return values


def load_settings(*, env: Mapping[str, str] | None = None) -> Settings:
    """Settings of the running Pulumi program, from its stack config and the environment."""
    import pulumi
    from pulumi.runtime.config import CONFIG, is_config_secret

    config = pulumi.Config(CONFIG_NAMESPACE)
    raw_config = {config.full_key(key): config.get(key) for key in TOP_LEVEL_KEYS}
    # Pulumi has no public way to list a namespace's keys: the raw config is read
    # only for keys the tool does not know, so that the parser names a misspelt one.
    raw_config.update(
        {key: value for key, value in CONFIG.get().items() if key.startswith(CONFIG_NAMESPACE + ":") and key not in raw_config}
    )
    secret_keys = [key for key in TOP_LEVEL_KEYS if is_config_secret(config.full_key(key))]
    settings = parse_settings(
        decode_namespace({key: value for key, value in raw_config.items() if value is not None}),
        os.environ if env is None else env,
        stack=pulumi.get_stack(),
        secret_keys=secret_keys,
    )
    # The provider process reads the same stack config itself, secrets included.
    return dataclasses.replace(settings, connection=None, literal_credentials=())


def provider_config(config: DynamicConfig) -> dict[str, Any]:
    """This tool's keys of the config a dynamic provider's `configure` receives, as a flat map."""
    values = {f"{CONFIG_NAMESPACE}:{key}": config.get(f"{CONFIG_NAMESPACE}:{key}") for key in TOP_LEVEL_KEYS}
    return {key: value for key, value in values.items() if value is not None}
