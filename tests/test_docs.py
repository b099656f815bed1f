"""The configuration reference and the troubleshooting page agree with the code they describe."""

from __future__ import annotations

import functools
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import sentry_dsn_sync.errors
from sentry_dsn_sync import config
from sentry_dsn_sync.config import parse_settings
from sentry_dsn_sync.errors import ConfigError
from devenv.openbao import bao_binary
from devenv.pulumi_cli import toolchain_bin
from tests import doc_names
from tests.config.test_parse import BASE, ENV, INVALID

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
    for module in COMPONENTS.rglob("*.py"):
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


# -- every name in README and docs/ exists -------------------------------------------------------

# Variables the docs name that another program reads, and which one.
READ_BY_OTHERS = {
    "HTTPS_PROXY": "requests, asked for Vault's proxy in vault/client.py (get_environ_proxies)",
    "HTTP_PROXY": "requests, as HTTPS_PROXY",
    "NO_PROXY": "requests, as HTTPS_PROXY",
    "SSL_CERT_FILE": "Python's ssl module, for the Sentry client's TLS",
    "PULUMI_SKIP_CHECKPOINTS": "the pulumi CLI (the benchmark sets it too)",
    "SENTRY_TOKEN_EU": "README's two-instance program, which names it in `sentryTokenEnv`",
    "VAULT_TOKEN_EU": "README's two-instance program, which names it in `vault.auth.tokenEnv`",
}
# Where else a variable may be named: the config that points at it (jwtEnv) and the pipelines that set it.
CODE_FILES = [
    *COMPONENTS.rglob("*.py"),
    *(COMPONENTS.parents[1] / "devenv").glob("*.py"),
    *(COMPONENTS.parents[1] / "scripts").glob("*.sh"),
    *(COMPONENTS.parents[1] / "examples" / "stacks").glob("*.yaml"),
    *(DOCS / "pipelines").glob("*.yml"),
]


def test_every_config_key_the_docs_name_is_one_the_settings_code_reads() -> None:
    named = doc_names.config_key_paths() + doc_names.config_yaml_keys()
    assert len(named) > 20, "the extraction finds the docs' keys"

    unknown = [f"{n.text} ({n.where})" for n in named if not doc_names.is_known_key(n.text)]

    assert unknown == []


def test_every_environment_variable_the_docs_name_is_read_by_the_code_or_named_by_its_reader() -> None:
    code = "\n".join(path.read_text() for path in CODE_FILES)

    unread = sorted(
        {f"{n.text} ({n.where})" for n in doc_names.environment_variables() if n.text not in code and n.text not in READ_BY_OTHERS}
    )

    assert unread == []


def test_every_make_target_the_docs_name_exists() -> None:
    makefile = (COMPONENTS.parents[1] / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z][\w-]*):", makefile, re.M))

    named = {doc_names.words(c.text)[1] for c in doc_names.commands() if c.text.startswith("make ")}

    assert named and named <= targets


def test_every_python_module_the_docs_run_exists() -> None:
    import importlib.util

    named = {doc_names.words(c.text)[2] for c in doc_names.commands() if c.text.startswith("python -m ")}

    assert named and all(importlib.util.find_spec(module) for module in named), named


def _cli_help(argv: list[str]) -> str:
    return _help_page(tuple(argv))


@functools.cache
def _help_page(argv: tuple[str, ...]) -> str:
    done = subprocess.run([*argv, "--help" if "pulumi" in argv[0] else "-h"], capture_output=True, text=True, timeout=60)
    return done.stdout + done.stderr


def _subcommands(help_text: str) -> set[str]:
    """The subcommands a help page lists (pulumi: "Available Commands:", bao: "...commands:"/"Subcommands:")."""
    names: set[str] = set()
    for section in re.findall(r"(?:Available Commands|[Cc]ommands|Subcommands):\n((?:[ \t]+\S.*\n)+)", help_text):
        names |= {line.split()[0] for line in section.splitlines()}
    return names


def _check_command(binary: str, command: str) -> list[str]:
    """What in `command` the CLI does not know: a subcommand or a flag, as its own help pages say."""
    argv, problems = [binary], []
    help_text = _cli_help(argv)
    rest = doc_names.words(command)[1:]
    while rest and not rest[0].startswith(("-", "<")) and _subcommands(help_text):
        word = rest.pop(0)
        candidate = _cli_help([*argv, word])
        # Listed, or an alias of one (pulumi lists `config remove`, the docs may say `config rm`).
        if word not in _subcommands(help_text) and not re.search(rf"Aliases:\n.*\b{re.escape(word)}\b", candidate):
            problems.append(f"{command}: {_shown(argv)} has no subcommand {word!r}")
            break
        argv.append(word)
        help_text = candidate
    for flag in (w.split("=", 1)[0] for w in rest if w.startswith("-") and len(w) > 1):
        if not re.search(rf"(^|[\s,]){re.escape(flag)}([\s=,]|$)", help_text, re.M):
            problems.append(f"{command}: {_shown(argv)} has no flag {flag}")
    return problems


@pytest.mark.e2e
def test_every_pulumi_command_and_flag_the_docs_name_exists_in_the_pulumi_cli() -> None:
    pulumi = str(toolchain_bin() / "pulumi")
    named = sorted({c.text for c in doc_names.commands() if c.text.startswith("pulumi ")})
    assert len(named) > 10

    assert [problem for command in named for problem in _check_command(pulumi, command)] == []


def test_every_vault_command_the_docs_name_is_one_the_vault_cli_and_bao_know() -> None:
    named = sorted({c.text for c in doc_names.commands() if c.text.startswith(("vault ", "bao "))})
    assert len(named) > 5

    # OpenBao's `bao` takes the `vault` CLI's commands and flags unchanged.
    assert [problem for command in named for problem in _check_command(bao_binary(), command)] == []


def test_every_sentry_dsn_sync_command_the_docs_name_is_one_its_cli_knows() -> None:
    cli = [sys.executable, "-m", "sentry_dsn_sync.report"]
    named = {c.text for c in doc_names.commands() if c.text.startswith("sentry-dsn-sync ")}
    assert named
    help_text = _cli_help(cli)

    flags = {w.split("=", 1)[0] for c in named for w in doc_names.words(c)[1:] if w.startswith("--")}
    subcommands = {doc_names.words(c)[1] for c in named} - flags

    assert subcommands <= {"report"}
    assert [flag for flag in sorted(flags) if flag not in help_text] == []


def _shown(argv: list[str]) -> str:
    return " ".join([Path(argv[0]).name, *argv[1:]])


def test_the_pipelines_readme_reference_and_prod_example_use_one_jwt_role_mount_and_token_variable() -> None:
    import yaml

    root = COMPONENTS.parents[1]
    prod = yaml.safe_load((root / "examples" / "stacks" / "Pulumi.prod.yaml").read_text())
    auth = prod["config"]["sentry-dsn-sync:vault"]["auth"]
    readme = (root / "README.md").read_text()
    pipelines = readme.split("## Pipelines", 1)[1].split("\n## ", 1)[0]
    reference_example = (DOCS / "configuration.md").read_text().split("### `method: jwt`", 1)[1].split("\n### ", 1)[0]

    assert f"{{method: jwt, role: {auth['role']}, jwtEnv: {auth['jwtEnv']}}}" in " ".join(pipelines.split())
    assert "vault auth enable jwt" in pipelines and auth["mount"] == "jwt", "README enables JWT auth at its default mount"
    assert f"auth/{auth['mount']}/role/{auth['role']}" in pipelines
    assert f"role: {auth['role']}" in reference_example and f"jwtEnv: {auth['jwtEnv']}" in reference_example
    assert f"mount: {auth['mount']}" in reference_example
    for pipeline in (DOCS / "pipelines").glob("*.yml"):
        text = pipeline.read_text()
        assert auth["jwtEnv"] in text, pipeline.name
        assert set(re.findall(r"\brole: ([\w-]+)", text)) <= {auth["role"]}, pipeline.name


def test_every_relative_link_in_readme_and_docs_points_at_a_file_of_the_checkout() -> None:
    broken = [
        f"{path.relative_to(doc_names.REPO_ROOT)} -> {target}"
        for path in doc_names.DOC_FILES
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", path.read_text())
        if "://" not in target and not (path.parent / target).exists()
    ]

    assert broken == []
