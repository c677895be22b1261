"""What every glare command line shares: an expected failure is one line, never a traceback."""

from __future__ import annotations

import argparse
import sys


def dispatch(args: argparse.Namespace, program: str) -> int:
    """Runs a parsed subcommand (``args.handler``). An expected failure becomes one line on stderr: exit
    status 1 when a run that had started fails (a camera that stopped), 2 for anything the user can fix."""
    from glare.capture import CameraStopped

    try:
        return args.handler(args)
    except (ValueError, OSError, RuntimeError) as error:
        print(f"{program} {args.command}: {error}", file=sys.stderr)
        return 1 if isinstance(error, CameraStopped) else 2
