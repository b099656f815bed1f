"""The configuration reference and the troubleshooting page agree with the code they describe."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

import sentry_dsn_sync.errors
from sentry_dsn_sync import config
from sentry_dsn_sync.config import parse_settings
from sentry_dsn_sync.errors import ConfigError
from tests.test_config import BASE, ENV, INVALID

DOCS = Path(__file__).resolve().parent.parent / "docs"
COMPONENTS = Path(sentry_dsn_sync.errors.__file__).resolve().parent


def sections(markdown: str) -> dict[str, list[list[str]]]:
    """Each heading's table rows (header and separator left out), as lists of cell texts."""
    found: dict[str, list[list[str]]] = {}
    rows: list[list[str]] = []
    for line in markdown.splitlines():
        if line.startswith("#"):
            rows = found.setdefault(line.lstrip("#").strip(), [])
        elif line.startswith("|") and not re.match(r"^\|[-| ]+\|$", line):
            rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    # The first row of every table is its header.
    return {title: [row for row in table if row[0] not in ("key", "message", "variable")] for title, table in found.items()}


def unquote(cell: str) -> str:
    return cell.strip().strip("`")


REFERENCE = sections((DOCS / "configuration.md").read_text())
TROUBLESHOOTING_TEXT = (DOCS / "troubleshooting.md").read_text()
TROUBLESHOOTING = sections(TROUBLESHOOTING_TEXT)
AUTH_SECTIONS = {f"`method: {method}`" + ("" if method != "token" else " (the default)"): method for method in config.AUTH_KEYS}


def documented_keys(title: str) -> list[str]:
    return [unquote(row[0]) for row in REFERENCE[title]]


# -- configuration reference -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "keys"),
    [
        ("Top-level keys", config.TOP_LEVEL_KEYS),
        ("Project objects", config.PROJECT_KEYS),
        ("`vault` keys", config.VAULT_KEYS),
        *[(title, config.AUTH_KEYS[method]) for title, method in AUTH_SECTIONS.items()],
    ],
)
def test_each_reference_table_lists_exactly_the_keys_the_settings_code_accepts(title: str, keys: tuple[str, ...]) -> None:
    assert sorted(documented_keys(title)) == sorted(keys)


def test_the_reference_documents_exactly_the_auth_methods_the_code_knows() -> None:
    methods = {title.split(":")[1].split("`")[0].strip() for title in REFERENCE if title.startswith("`method: ")}

    assert methods == set(config.AUTH_KEYS)


def test_env_fallbacks_in_the_reference_are_the_ones_the_code_reads() -> None:
    documented = {}
    for title, prefix in (("Top-level keys", ""), ("`vault` keys", "vault.")):
        for row in REFERENCE[title]:
            if unquote(row[3]):
                documented[prefix + unquote(row[0])] = unquote(row[3])

    assert documented == config.ENV_FALLBACKS


def test_every_environment_variable_the_code_reads_is_documented() -> None:
    listed = {unquote(row[0]) for row in REFERENCE["Environment variables"]}
    read_by_code = set(config.ENV_FALLBACKS.values()) | {config.DEFAULT_SECRET_ID_ENV, config.DEFAULT_PASSWORD_ENV}
    for module in (COMPONENTS / "config.py", COMPONENTS / "vault" / "_auth.py", COMPONENTS / "vault" / "client.py"):
        read_by_code |= set(re.findall(r'env(?:\.get\(|\[)"([A-Z][A-Z0-9_]+)"', module.read_text()))
    read_by_code.discard("HOME")  # where ~/.vault-token is, as every CLI does

    assert listed == read_by_code


def _parsed(**values: Any) -> Any:
    return parse_settings({**BASE, **values}, ENV, stack="docs")


def _auth(**auth: Any) -> Any:
    return _parsed(vault={"auth": auth}).vault.auth


def _cert_auth() -> Any:
    # The cert method needs a client certificate; any existing file stands in for one here.
    vault = {"auth": {"method": "cert"}, "clientCert": __file__, "clientKey": __file__}
    return _parsed(vault=vault).vault.auth


# What the code does when a key is left out, read from the settings it builds.
ACTUAL_DEFAULTS = {
    ("Top-level keys", "sentryUrl"): lambda: _parsed().sentry_url,
    ("`vault` keys", "mount"): lambda: _parsed().vault.mount,
    ("`vault` keys", "kvVersion"): lambda: str(_parsed().vault.kv_version),
    ("`vault` keys", "pathTemplate"): lambda: _parsed().vault.path_template,
    ("`vault` keys", "skipVerify"): lambda: str(_parsed().vault.skip_verify).lower(),
    ("`vault` keys", "onDelete"): lambda: _parsed().vault.on_delete,
    ("`method: token` (the default)", "method"): lambda: _parsed().vault.auth.method,
    ("`method: approle`", "secretIdEnv"): lambda: _auth(method="approle", roleId="r").secret_id_env,
    ("`method: approle`", "mount"): lambda: _auth(method="approle", roleId="r").mount,
    ("`method: jwt`", "mount"): lambda: _auth(method="jwt", role="r", jwtEnv="X").mount,
    ("`method: kubernetes`", "mount"): lambda: _auth(method="kubernetes", role="r").mount,
    ("`method: kubernetes`", "tokenPath"): lambda: _auth(method="kubernetes", role="r").token_path,
    ("`method: userpass`", "passwordEnv"): lambda: _auth(method="userpass", username="u").password_env,
    ("`method: userpass`", "mount"): lambda: _auth(method="userpass", username="u").mount,
    ("`method: cert`", "mount"): lambda: _cert_auth().mount,
}


@pytest.mark.parametrize(("title", "key"), list(ACTUAL_DEFAULTS), ids=[f"{t}:{k}" for t, k in ACTUAL_DEFAULTS])
def test_documented_defaults_are_what_the_code_uses(title: str, key: str) -> None:
    row = next(row for row in REFERENCE[title] if unquote(row[0]) == key)

    assert unquote(row[2]) == ACTUAL_DEFAULTS[(title, key)]()


@pytest.mark.parametrize(
    ("title", "key"),
    [("Top-level keys", "organization"), ("Top-level keys", "sentryToken"), ("Project objects", "slug"),
     ("`vault` keys", "address"), ("`method: approle`", "roleId"), ("`method: jwt`", "role"),
     ("`method: kubernetes`", "role"), ("`method: userpass`", "username")],
)
def test_keys_documented_as_required_are_refused_when_missing(title: str, key: str) -> None:
    row = next(row for row in REFERENCE[title] if unquote(row[0]) == key)
    assert unquote(row[2]) == "required"
    values: dict[str, Any] = dict(BASE)
    env = dict(ENV)
    if title == "Top-level keys":
        values.pop(key, None)
        env.pop(config.ENV_FALLBACKS[key], None)
    elif title == "Project objects":
        values["projects"] = [{"keyLabel": "Default"}]
    elif title == "`vault` keys":
        env.pop(config.ENV_FALLBACKS[f"vault.{key}"])
    else:
        method = next(m for t, m in AUTH_SECTIONS.items() if t == title)
        values["vault"] = {"auth": {"method": method, "jwtEnv": "X"} if method == "jwt" else {"method": method}}

    with pytest.raises(ConfigError, match=rf"- (\S+\.)?{key}: missing"):
        parse_settings(values, env, stack="docs")


# -- troubleshooting ---------------------------------------------------------------------------


def test_every_error_class_has_a_troubleshooting_section() -> None:
    for name in sentry_dsn_sync.errors.__all__:
        assert name in TROUBLESHOOTING, f"docs/troubleshooting.md has no '## {name}' section"
        if name != "SentryDsnSyncError":
            assert TROUBLESHOOTING[name], f"the {name} section lists no message"


def test_every_error_class_raised_in_the_code_is_one_of_the_documented_tree() -> None:
    raised: set[str] = set()
    for source in COMPONENTS.rglob("*.py"):
        raised |= set(re.findall(r"\b((?:Sentry|Vault|Config|KeySelection)\w*Error)\(", source.read_text()))

    assert raised - {"SentryDsnSyncError"} <= set(sentry_dsn_sync.errors.__all__)


def _pattern(documented: str) -> re.Pattern[str]:
    """A documented message pattern as a regex: `<...>` is any text, the rest literal."""
    parts = re.split(r"<[^>]+>", documented)
    return re.compile(".+?".join(re.escape(part) for part in parts))


CONFIG_PATTERNS = [_pattern(unquote(row[0])) for row in TROUBLESHOOTING["ConfigError"]]


@pytest.mark.parametrize(("values", "env"), [row[1:3] for row in INVALID], ids=[row[0] for row in INVALID])
def test_every_config_problem_message_is_explained_in_troubleshooting(
    values: dict[str, Any], env: dict[str, str] | None
) -> None:
    config_values = {key: value for key, value in {**BASE, **values}.items() if value is not None}
    with pytest.raises(ConfigError) as caught:
        parse_settings(config_values, ENV if env is None else env, stack="docs")

    for line in str(caught.value).splitlines()[1:]:
        problem = line.removeprefix("  - ")
        assert any(pattern.match(problem) for pattern in CONFIG_PATTERNS), f"undocumented: {problem}"
