"""Reading the stack's config the way Pulumi hands it over: the tool's namespace, decoded, and which keys are secret."""

from __future__ import annotations

import pytest
from pulumi.runtime.config import set_all_config

from sentry_dsn_sync.config import ProjectSpec, Secret, decode_namespace, load_settings
from sentry_dsn_sync.errors import ConfigError

SENTRY_TOKEN = "sntrys_eyJpYXQiOjE3MDAwMDAwMDB9_token-that-must-never-show"
ENV = {"SENTRY_AUTH_TOKEN": SENTRY_TOKEN, "VAULT_ADDR": "http://127.0.0.1:8200"}


def test_decode_namespace_keeps_only_this_tool_and_decodes_structured_values() -> None:
    raw = {
        "sentry-dsn-sync:organization": "acme",
        "sentry-dsn-sync:projects": '["web", {"slug": "api"}]',
        "sentry-dsn-sync:vault": '{"mount": "kv"}',
        "aws:region": "eu-west-1",
    }

    assert decode_namespace(raw) == {
        "organization": "acme",
        "projects": ["web", {"slug": "api"}],
        "vault": {"mount": "kv"},
    }


def test_decode_namespace_names_the_key_of_broken_json() -> None:
    with pytest.raises(ConfigError, match=r"^vault: not valid JSON .*pulumi config set --path"):
        decode_namespace({"sentry-dsn-sync:vault": '{"mount": '})


def test_load_settings_refuses_a_sentry_token_pulumi_stores_in_plain_text(pulumi_stack: None) -> None:
    set_all_config({"sentry-dsn-sync:organization": "acme", "sentry-dsn-sync:projects": '["web"]',
                    "sentry-dsn-sync:sentryToken": SENTRY_TOKEN}, [])

    with pytest.raises(ConfigError, match="sentryToken: stored in plain text") as caught:
        load_settings(env=ENV)
    assert SENTRY_TOKEN not in str(caught.value)


def test_load_settings_accepts_a_secret_sentry_token(pulumi_stack: None) -> None:
    set_all_config(
        {"sentry-dsn-sync:organization": "acme", "sentry-dsn-sync:projects": '["web"]',
         "sentry-dsn-sync:sentryToken": SENTRY_TOKEN},
        ["sentry-dsn-sync:sentryToken"],
    )

    settings = load_settings(env=ENV)

    assert settings.sentry_token == Secret(SENTRY_TOKEN)
    assert settings.projects == (ProjectSpec(slug="web"),)
