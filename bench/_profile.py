"""Profile the dynamic provider process of one pulumi command, and say where its time went.

The engine starts the provider as `<virtualenv>/bin/python -u -m pulumi.dynamic ...`
(see `pulumi-resource-pulumi-python`; the language host built here runs the
program with PULUMI_PYTHON_CMD instead). A wrapper script in place of that
python runs only the provider under the sampler in `_sampler.py`.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from bench.report import markdown_table

__all__ = ["CATEGORIES", "IDLE_LEAVES", "categorize", "profiling_venv", "stand_in_venv", "summarize"]

_WRAPPER = """\
#!/bin/sh
if [ "$1" = "-u" ] && [ "$2" = "-m" ] && [ "$3" = "pulumi.dynamic" ]; then
  shift 3
  exec "{python}" -u "{sampler}" "{provider_out}" pulumi.dynamic "$@"
fi
if [ "$1" = "-u" ]; then
  shift
fi
case "$1" in
  */pulumi-language-python-exec)
    script="$1"
    shift
    exec "{python}" -u "{sampler}" "{program_out}" "$script" "$@";;
esac
exec "{python}" "$@"
"""

# Leaves where a thread waits for work: not time the provider spends on anything.
IDLE_LEAVES = (
    "threading.py:wait",
    "queue.py:get",
    "concurrent/futures/thread.py:_worker",
    "grpc/_server.py:_serve",
    "grpc/_server.py:wait_for_termination",
    "selectors.py:select",
    "threading.py:_wait_for_tstate_lock",
    "pulumi/dynamic/__main__.py:main",
)
# First match from the leaf up names the category, so a socket read under hvac is "Vault".
CATEGORIES = (
    # The program's registrations block here until the engine has run that resource's steps.
    ("grpc/_channel.py:_blocking", "waiting for the engine to answer RegisterResource"),
    ("hvac/", "Vault HTTP (hvac/requests)"),
    ("requests/", "Vault HTTP (hvac/requests)"),
    ("urllib3/", "Vault HTTP (hvac/requests)"),
    ("httpx/", "Sentry HTTP (httpx)"),
    ("httpcore/", "Sentry HTTP (httpx)"),
    ("dill/", "(un)pickling `__provider` (dill)"),
    ("pickle.py", "(un)pickling `__provider` (dill)"),
    ("traceback.py", "recording each resource's stack trace (traceback)"),
    ("linecache.py", "recording each resource's stack trace (traceback)"),
    ("pulumi/runtime/rpc.py", "property (de)serialization (pulumi.runtime.rpc)"),
    ("pulumi/output.py", "Output plumbing (pulumi.output)"),
    ("asyncio/", "asyncio event loop"),
    ("google/protobuf", "gRPC / protobuf"),
    ("grpc/", "gRPC / protobuf"),
    ("sentry_dsn_sync/", "tool code (sentry_dsn_sync)"),
    ("pulumi/dynamic/", "pulumi.dynamic glue"),
)


def profiling_venv(directory: Path, *, provider_out: Path, program_out: Path) -> Path:
    """A directory that looks like a virtualenv whose `bin/python` runs the sampler on the Pulumi processes.

    Set as the project's `virtualenv` option, it is what the engine starts the
    provider with (into `provider_out`); set as PULUMI_PYTHON_CMD too, the
    language host runs the program with it (into `program_out`). Every other
    use of that python runs this interpreter as is.
    """
    return stand_in_venv(directory / "profiled-venv", _WRAPPER.format(
        python=sys.executable, sampler=Path(__file__).with_name("_sampler.py"), provider_out=provider_out,
        program_out=program_out))


def stand_in_venv(venv: Path, wrapper: str) -> Path:
    """`venv`, made to look like a virtualenv whose `bin/python` is the shell script `wrapper`."""
    (venv / "bin").mkdir(parents=True, exist_ok=True)
    python = venv / "bin" / "python"
    python.write_text(wrapper)
    python.chmod(0o755)
    return venv


def _short(frame: str) -> str:
    """`sentry_dsn_sync/...` whether the tool ran from the tree or from the benchmark's snapshot of it."""
    frame = frame.removeprefix("site-packages/")
    for root in ("components-snapshot/", "components/"):
        if root in frame:
            return frame.split(root, 1)[1]
    return frame


def _read(lines: Iterable[str]) -> Counter[tuple[str, ...]]:
    stacks: Counter[tuple[str, ...]] = Counter()
    for line in lines:
        count, _, stack = line.rstrip("\n").partition("\t")
        if stack:
            stacks[tuple(_short(frame) for frame in stack.split(";"))] += int(count)
    return stacks


# Frames every busy stack passes through: they say nothing about where the time goes.
_PLUMBING = (
    "threading.py:", "concurrent/futures/", "grpc/_server.py:", "<frozen ", "bench/_sampler.py:",
    "pulumi/dynamic/__main__.py:wrapper",
)
IMPORTS = "importing modules (first call of the process)"


def categorize(stack: tuple[str, ...]) -> str:
    """The innermost known layer of a stack; imports win, as they are a one-off cost of the process."""
    if any("importlib._bootstrap" in frame for frame in stack):
        return IMPORTS
    for frame in reversed(stack):
        for needle, name in CATEGORIES:
            if needle in frame:
                return name
    return "other"


def summarize(lines: Iterable[str], *, interval_ms: float = 5.0, top: int = 15) -> str:
    """Markdown: busy samples by category, and the functions with the most inclusive busy samples."""
    stacks = _read(lines)
    busy = Counter({stack: n for stack, n in stacks.items() if not stack[-1].endswith(IDLE_LEAVES)})
    total = sum(busy.values())
    if total == 0:
        return "No busy samples were recorded."
    by_category: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    for stack, n in busy.items():
        by_category[categorize(stack)] += n
        for frame in set(stack):
            inclusive[frame] += n
    category_rows = [[name, n, f"{100 * n / total:.0f}%"] for name, n in by_category.most_common()]
    telling = [(frame, n) for frame, n in inclusive.most_common() if not frame.startswith(_PLUMBING)]
    frame_rows = [[f"`{frame}`", n, f"{100 * n / total:.0f}%"] for frame, n in telling[:top]]
    return "\n".join([
        f"{total} busy thread-samples (one every {interval_ms:g} ms per thread; "
        f"{sum(stacks.values()) - total} idle ones left out).",
        "",
        markdown_table(["where (innermost known layer)", "samples", "share"], category_rows),
        "",
        markdown_table(["function (inclusive, thread plumbing left out)", "samples", "share"], frame_rows),
    ])
