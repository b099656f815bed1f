"""Slugs and secret paths: nothing may name a place outside the mount."""

from __future__ import annotations

import pytest

from sentry_dsn_sync.paths import is_slug, path_problem


@pytest.mark.parametrize("slug", ["web", "my-app_2", "a" * 50, "0web"])
def test_sentry_slugs_are_slugs(slug: str) -> None:
    assert is_slug(slug)


@pytest.mark.parametrize("value", ["", "123", "Web", "a/b", "../x", ".", "a.b", "a" * 51, "web\n", None, 7])
def test_anything_else_is_not_a_slug(value: object) -> None:
    assert not is_slug(value)


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        ("", "is empty"),
        ("/", "is empty"),
        ("/sentry/web", "is absolute"),
        ("sentry/../sys", "has a '..' segment"),
        ("..", "has a '..' segment"),
        ("sentry/./web", "has a '.' segment"),
        ("sentry//web", "has an empty segment"),
        ("sentry/\x00web", "contains control characters"),
    ],
)
def test_paths_that_could_leave_the_mount_are_refused(path: str, problem: str) -> None:
    assert (path_problem(path) or "").startswith(problem)


@pytest.mark.parametrize("path", ["sentry/acme/web", "apps/web/sentry/", "my project+ä", "a..b/.hidden"])
def test_paths_below_the_mount_pass(path: str) -> None:
    assert path_problem(path) is None


def test_a_rendered_path_is_checked_again_when_the_secret_is_placed() -> None:
    from sentry_dsn_sync.config import ProjectSpec, parse_settings
    from sentry_dsn_sync.errors import ConfigError

    settings = parse_settings(
        {"organization": "acme", "sentryToken": "t", "projects": ["web"], "vault": {"pathTemplate": "{stack}/{project}"}},
        {"VAULT_ADDR": "http://127.0.0.1:8200"},
        stack="prod",
        secret_keys=["sentryToken"],
    )

    with pytest.raises(ConfigError, match=r"project 'web': its Vault path '\.\./web' has a '\.\.' segment"):
        settings.vault_path(ProjectSpec(slug="web"), stack="..")
