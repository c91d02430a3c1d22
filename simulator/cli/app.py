"""The ``remnant`` command line: the typer app, its commands, and the one funnel for errors."""

from __future__ import annotations

import signal
import sys

import matplotlib
import typer
from click import ClickException
from rich.text import Text

from simulator.cli.console import err
from simulator.cli.info import catalog, schema, validate
from simulator.cli.init import init
from simulator.cli.inspect import inspect
from simulator.cli.qa import qa
from simulator.cli.run import run
from simulator.cli.studies import sensitivity, sweep
from simulator.errors import InputError

INTERRUPTED = 130
"""Exit code of a run stopped by Ctrl-C (128 + SIGINT)."""

app = typer.Typer(
    name="remnant",
    help="Simulate cluster munition remnant contamination and land release, for humanitarian mine action.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
for command in (run, validate, catalog, schema, inspect, init, sweep, sensitivity, qa):
    app.command()(command)


def main() -> None:
    """Entry point: bad input is one line on stderr and exit code 2, never a traceback."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    matplotlib.use("Agg")
    try:
        code = app(standalone_mode=False)
    except InputError as exc:
        err.print(Text.assemble(("remnant: error:", "bold red"), " ", exc.line()), highlight=False, soft_wrap=True)
        sys.exit(2)
    except KeyboardInterrupt:
        code = INTERRUPTED
    except MemoryError:
        err.print("remnant: error: the run ran out of memory; no outputs were written. "
                  "Use larger cells, a smaller extent or fewer realizations.", highlight=False)
        sys.exit(1)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except (typer.Abort, EOFError):
        sys.exit(1)
    except ClickException as exc:  # usage errors
        exc.show()
        sys.exit(2)
    if code == INTERRUPTED:  # typer turns Ctrl-C into this exit code
        err.print("remnant: interrupted; no outputs were written or changed. "
                  "Run the same command with --resume to finish from the last checkpoint.", highlight=False)
    if isinstance(code, int) and code:
        sys.exit(code)
