"""A wall-clock sampling profiler for the dynamic provider process (run as a script, not imported).

cProfile sees only the thread that enabled it, but the provider serves every
call on gRPC worker threads; sampling `sys._current_frames()` sees all of them,
needs no clean exit (the engine kills providers), and costs little. Usage:
`python _sampler.py OUT MODULE-OR-SCRIPT ARGS...`; OUT gets collapsed stacks
(`count<TAB>root;...;leaf`), rewritten every half second.
"""

from __future__ import annotations

import collections
import os
import re
import runpy
import sys
import threading
import time
from types import CodeType, FrameType

INTERVAL = 0.005


# Paths shortened to what names the module: site-packages/x -> x, .../lib/python3.11/x -> x.
_PREFIX = re.compile(r"^.*(?:site-packages/|/lib/python3\.\d+/)")
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + "/"


def _frame_name(code: CodeType) -> str:
    path = _PREFIX.sub("", code.co_filename)
    if path.startswith(_ROOT):
        path = path[len(_ROOT):]
    return f"{path}:{code.co_name}"


def _sample(out: str, counts: collections.Counter[str], stop: threading.Event) -> None:
    me = threading.get_ident()
    last_dump = time.monotonic()
    while not stop.wait(INTERVAL):
        for ident, top in sys._current_frames().items():
            if ident == me:
                continue
            stack = []
            frame: FrameType | None = top
            while frame is not None:
                stack.append(_frame_name(frame.f_code))
                frame = frame.f_back
            counts[";".join(reversed(stack))] += 1
        if time.monotonic() - last_dump > 0.5:
            _dump(out, counts)
            last_dump = time.monotonic()


def _dump(out: str, counts: collections.Counter[str]) -> None:
    tmp = f"{out}.tmp"
    with open(tmp, "w") as handle:
        for stack, count in counts.items():
            handle.write(f"{count}\t{stack}\n")
    os.replace(tmp, out)


def main() -> None:
    out = sys.argv[1]
    target = sys.argv[2]
    sys.argv = [target, *sys.argv[3:]]
    script = os.path.isfile(target)
    # What `python -m` or `python script` would have put first on the path.
    sys.path.insert(0, os.path.dirname(os.path.abspath(target)) if script else os.getcwd())
    counts: collections.Counter[str] = collections.Counter()
    stop = threading.Event()
    sampler = threading.Thread(target=_sample, args=(out, counts, stop), daemon=True, name="bench-sampler")
    sampler.start()
    try:
        if script:
            runpy.run_path(target, run_name="__main__")
        else:
            runpy.run_module(target, run_name="__main__", alter_sys=True)
    finally:
        # The sampler stops adding before the last dump reads the counts.
        stop.set()
        sampler.join()
        _dump(out, counts)


main()
