"""The one place errors become messages and exit codes (every command runs through it)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

import click
from tierbook.errors import EXIT_INTERNAL, EXIT_INTERRUPTED, TierbookError


def run_command(fn: Callable[[], int]) -> None:
    """The one place errors become messages and exit codes."""
    try:
        code = fn()
    except TierbookError as exc:
        click.echo(exc.render(), err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        # (click would say "Aborted!" and exit 1, the code of invalid data or a failed gate)
        click.echo(
            "interrupted: stopped before it finished; the files and stored runs it would "
            "have replaced are as they were (a stored run it began is marked failed)",
            err=True,
        )
        sys.exit(EXIT_INTERRUPTED)
    except SystemExit:
        raise
    except Exception as exc:  # a bug, not bad input: say so plainly, keep the traceback handy
        if os.environ.get("TIERBOOK_DEBUG"):
            raise
        click.echo(
            f"internal error: {type(exc).__name__}: {exc}\n"
            "This is a bug in tierbook, not in your input; rerun with TIERBOOK_DEBUG=1 "
            "for the traceback and report it.",
            err=True,
        )
        sys.exit(EXIT_INTERNAL)
    sys.exit(code)
