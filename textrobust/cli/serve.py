"""``textrobust serve``: any victim behind the generic JSON endpoint that ``http://…`` victims read."""

from __future__ import annotations

import argparse

from textrobust.cli.arguments import add_device_argument, add_victim_arguments, victim_from_args


def serve_command(args: argparse.Namespace) -> int:
    from textrobust.victims.remote.serve import ServedVictim, listen, make_app, serve

    sock = listen(args.host, args.port)  # a port in use fails here, before the model is loaded
    try:
        ref = victim_from_args(args)
        served = ServedVictim(ref.load(args.device), ref, labels_only=args.labels_only)
        app = make_app(served)
    except BaseException:
        sock.close()
        raise

    def announce(url: str) -> None:
        output = "labels" if served.labels_only else "probabilities"
        print(f"serving {ref.kind} victim {ref.location} ({output}) at {url} (Ctrl-C stops)", flush=True)

    serve(app, sock, announce)
    print(f"stopped after {served.requests} requests ({served.texts} texts)", flush=True)
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="put any victim behind an HTTP endpoint (attack it with --victim http://HOST:PORT/)",
        description="Serve a victim as the generic JSON endpoint: GET / describes it (class names), POST / "
        'with {"texts": [...]} answers {"probabilities": [[...]]} (or {"labels": [...]} with --labels-only), '
        "GET /stats counts what was served. Needs the 'http' extra.",
    )
    add_victim_arguments(parser)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    parser.add_argument(
        "--port", type=int, default=8000, help="port to listen on; 0 picks a free one (default: %(default)s)"
    )
    parser.add_argument(
        "--labels-only",
        action="store_true",
        help="answer class names only, no probabilities (a hard-label endpoint)",
    )
    add_device_argument(parser)
    parser.set_defaults(func=serve_command)
