"""`python -m sentry_simulator`: serve a seed until SIGTERM or SIGINT.

Prints exactly one line, `sentry-simulator listening on <base URL>`, once the
port is bound, so a parent process can read the URL (port 0 picks a free one)
and start talking at once.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence

from .app import Simulator
from .limits import DEFAULT_RATE_LIMIT, DEFAULT_RATE_WINDOW
from .seed import DEMO_SEED_PATH, SeedError, generate_seed, load_seed, merge_seeds, parse_seed
from .server import create_server

READY_LINE = "sentry-simulator listening on {url}"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m sentry_simulator", description=__doc__)
    parser.add_argument("--seed", help=f"seed JSON file (default: the demo seed, {DEMO_SEED_PATH.name}, "
                                       "unless --generate-projects is given)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--prefix", default="", help="serve under a path prefix, e.g. /sentry (self-hosted)")
    parser.add_argument("--generate-projects", type=int, metavar="N",
                        help="add a generated organization 'bench' with N projects (token bench-token)")
    parser.add_argument("--generate-keys-per-project", type=int, default=1, metavar="K")
    parser.add_argument("--page-size", type=int, default=None,
                        help="page size of every list without per_page (default: Sentry's own, "
                             "10 for key lists and 100 for project lists)")
    parser.add_argument("--rate-limit", type=int, default=None,
                        help="requests per window for every endpoint (default: Sentry's own per endpoint: "
                             "40/s for key lists, 5/s for project stats, 20/s for key stats, "
                             f"{DEFAULT_RATE_LIMIT}/s shared by the rest)")
    parser.add_argument("--rate-window", type=int, default=DEFAULT_RATE_WINDOW, help="window in seconds")
    parser.add_argument("--link-prefix", default=None, metavar="URL",
                        help="Sentry's system.url-prefix: Link headers name this origin instead of the "
                             "address a request came to (default: the request's own)")
    parser.add_argument("--self-hosted", action="store_true",
                        help="no rate limits and no X-Sentry-Rate-Limit-* headers, as self-hosted Sentry")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        seeds = []
        if args.seed or args.generate_projects is None:
            seeds.append(load_seed(args.seed or DEMO_SEED_PATH))
        if args.generate_projects is not None:
            seeds.append(parse_seed(generate_seed(projects=args.generate_projects,
                                                  keys_per_project=args.generate_keys_per_project)))
        seed = merge_seeds(*seeds)
    except SeedError as exc:
        print(f"sentry-simulator: {exc}", file=sys.stderr)
        return 2
    simulator = Simulator(seed, prefix=args.prefix, page_size=args.page_size,
                          rate_limit=args.rate_limit, rate_window=args.rate_window,
                          link_prefix=args.link_prefix, self_hosted=args.self_hosted)
    server = create_server(simulator, host=args.host, port=args.port)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                              name="sentry-simulator", daemon=True)
    thread.start()
    print(READY_LINE.format(url=server.url), flush=True)
    try:
        while not stop.wait(1.0):
            pass
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
    return 0


if __name__ == "__main__":
    sys.exit(main())
