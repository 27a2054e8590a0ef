"""`python -m notifyctl.emulator --host 127.0.0.1 --port 4566 --state-dir DIR` (foreground).

`notifyctl local start` runs this in the background; run it directly to watch its log.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m notifyctl.emulator",
                                     description="notifyctl's embedded AWS emulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4566)
    parser.add_argument("--state-dir", type=Path, default=None,
                        help="where function code and environments live "
                             "(default: $XDG_STATE_HOME/notifyctl/emulator-<port>)")
    parser.add_argument("--time-scale", type=float, default=None,
                        help="real seconds per AWS second for every AWS duration the emulator "
                             "waits (retries, alarm periods, deployment steps, hook timeouts); "
                             "default $NOTIFYCTL_EMULATOR_TIME_SCALE or 0.01")
    parser.add_argument("--retry-scale", type=float, default=None, dest="retry_scale",
                        help="deprecated: the same as --time-scale")
    parser.add_argument("--port-file", type=Path, default=None,
                        help="write {\"port\": N} here once listening (for --port 0)")
    parser.add_argument("--fresh", action="store_true",
                        help="discard the state saved in --state-dir and start empty")
    args = parser.parse_args(argv)
    if not 0 <= args.port <= 65535:
        parser.error(f"--port: expected 0 to 65535, got {args.port}")
    for flag, value in (("--time-scale", args.time_scale), ("--retry-scale", args.retry_scale)):
        if value is not None and not value > 0:
            parser.error(f"{flag}: expected a number > 0, got {value:g}")
    from notifyctl.emulator import control, server

    state_dir = args.state_dir or control.state_root() / f"emulator-{args.port}"
    scale = args.time_scale if args.time_scale is not None else args.retry_scale
    return server.serve(args.host, args.port, state_dir, time_scale=scale,
                        port_file=args.port_file, fresh=args.fresh)


if __name__ == "__main__":
    sys.exit(main())
