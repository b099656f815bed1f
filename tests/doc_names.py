"""What README and docs/ name: commands, config keys and environment variables, read from the Markdown.

`tests/test_docs.py` checks each against the code and the CLIs it names, so a
renamed key, a dropped flag or a mistyped variable in the docs fails a test.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from sentry_dsn_sync import config

REPO_ROOT = Path(__file__).resolve().parent.parent
DOC_FILES = (
    REPO_ROOT / "README.md",
    *sorted((REPO_ROOT / "docs").glob("*.md")),
    *sorted((REPO_ROOT / "examples").glob("*/README.md")),
    REPO_ROOT / "stacks" / "README.md",
)
# The programs whose commands the docs tell a user to run.
PROGRAMS = ("pulumi", "vault", "bao", "make", "sentry-dsn-sync", "python")
ENV_VAR = re.compile(r"\b[A-Z][A-Z0-9]*_[A-Z0-9_]*[A-Z0-9]\b")


@dataclass(frozen=True)
class Named:
    """One name in the docs and where it stands, for a failure message that points at it."""

    text: str
    where: str


def _shown(path: Path) -> str:
    return str(path.relative_to(REPO_ROOT))


def _code_blocks(markdown: str) -> Iterator[tuple[str, str]]:
    for match in re.finditer(r"^```(\w*)\n(.*?)^```", markdown, re.S | re.M):
        yield match.group(1), match.group(2)


def _prose(markdown: str) -> str:
    return re.sub(r"^```.*?^```", "", markdown, flags=re.S | re.M)


def _shell_lines(block: str) -> Iterator[str]:
    """The commands of a shell block: continuation lines joined, comments dropped."""
    for line in block.replace("\\\n", " ").splitlines():
        line = line.split("  #", 1)[0].split(" # ", 1)[0].strip()
        if line and not line.startswith("#"):
            yield line


def commands() -> list[Named]:
    """Every command line the docs show: in shell blocks and in inline code spans."""
    found: list[Named] = []
    for path in DOC_FILES:
        text = path.read_text()
        for language, block in _code_blocks(text):
            if language in ("sh", "bash", "shell", ""):
                found += [Named(line, _shown(path)) for line in _shell_lines(block) if line.split()[0] in PROGRAMS]
        for span in re.findall(r"`([^`\n]+)`", _prose(text)):
            if span.split()[0] in PROGRAMS and len(span.split()) > 1:
                found.append(Named(span, _shown(path)))
    return found


def words(command: str) -> list[str]:
    """A command's words, placeholders (`<key>`, `...`) and quotes resolved well enough to read."""
    try:
        return shlex.split(command.replace("<", "'<").replace(">", ">'").replace("[", "'[").replace("]", "]'"))
    except ValueError:
        return command.split()


def environment_variables() -> list[Named]:
    found: list[Named] = []
    for path in DOC_FILES:
        found += [Named(name, _shown(path)) for name in ENV_VAR.findall(path.read_text())]
    return found


# -- config keys ---------------------------------------------------------------------------------


def config_key_paths() -> list[Named]:
    """Config keys the docs name as paths: `vault.mount`, `vault.auth.jwtEnv`, `pulumi config set --path` keys."""
    found: list[Named] = []
    # The examples' READMEs document other projects' config (e.g. the consumer's producerStack).
    for path in (p for p in DOC_FILES if "examples" not in p.parts):
        text = path.read_text()
        for span in re.findall(r"`(vault(?:\.[A-Za-z]+)+)`", text):
            found.append(Named(span, _shown(path)))
        for command in re.findall(r"pulumi config (?:set|rm|get)[^`\n]*", text):
            args = [w for w in words(command)[3:] if not w.startswith("-")]
            if args and not args[0].startswith("<"):
                found.append(Named(args[0], _shown(path)))
    return found


def config_yaml_keys() -> list[Named]:
    """Every key under `sentry-dsn-sync:` in the YAML examples of the docs, as a dotted path."""
    found: list[Named] = []
    for path in DOC_FILES:
        for language, block in _code_blocks(path.read_text()):
            if language == "yaml" and f"{config.CONFIG_NAMESPACE}:" in block:
                for key, value in _namespaced(yaml.safe_load(block)):
                    found += [Named(p, _shown(path)) for p in _paths(key, value)]
    return found


def _namespaced(document: Any) -> Iterator[tuple[str, Any]]:
    """`(key, value)` for every `sentry-dsn-sync:<key>` at any depth (a stack file, or ESC's `pulumiConfig`)."""
    if isinstance(document, dict):
        for key, value in document.items():
            if str(key).startswith(f"{config.CONFIG_NAMESPACE}:"):
                yield str(key).removeprefix(f"{config.CONFIG_NAMESPACE}:"), value
            else:
                yield from _namespaced(value)


def _paths(prefix: str, value: Any) -> Iterator[str]:
    yield prefix
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from _paths(f"{prefix}.{key}", inner)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, dict):
                yield from _paths(f"{prefix}[{index}]", item)


def is_known_key(path: str) -> bool:
    """Whether `path` (e.g. `vault.auth.role`, `projects[1].keyLabel`) is a key the settings code reads."""
    path = path.removeprefix(f"{config.CONFIG_NAMESPACE}:")
    parts = re.sub(r"\[\d+\]", "[]", path).split(".")
    head = parts[0].removesuffix("[]")
    if head not in config.TOP_LEVEL_KEYS:
        return False
    rest = parts[1:]
    if not rest:
        return True
    if head == "projects":
        return len(rest) == 1 and rest[0] in config.PROJECT_KEYS
    if head != "vault" or rest[0] not in config.VAULT_KEYS:
        return False
    if rest[0] != "auth" or len(rest) == 1:
        return len(rest) == 1
    auth_keys = {key for keys in config.AUTH_KEYS.values() for key in keys}
    return len(rest) == 2 and (rest[1] in auth_keys or rest[1] == "<key>")
