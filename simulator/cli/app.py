"""The ``remnant`` command line: the typer app, its commands, and the one funnel for errors.

Exit codes: 0 done; 1 ``run --check`` found outputs that differ; 2 bad input or a usage error
(fix the command or the files it names); 3 the environment failed (disk full, permissions, out
of memory, an unreachable cluster); 4 an internal error (a bug: rerun with ``--debug`` and
report the traceback); 130 interrupted (Ctrl-C or SIGTERM). Every failure is one line on stderr; ``--debug``
(before the command) adds the traceback.
"""

from __future__ import annotations

import errno
import importlib
import os
import shutil
import signal
import sys
import traceback
import warnings
from collections.abc import Iterator, MutableMapping

import typer
import typer.core
import typer.main
import typer.models
from rich.text import Text
from typer import _click as click  # typer ships its own click; its usage errors are these

from simulator import __version__
from simulator.cli.console import err, out
from simulator.errors import InputError, InputWarning, one_line
from simulator.outputs.staging import release_all

COMMANDS = {
    "run": "simulator.cli.run",
    "validate": "simulator.cli.info",
    "catalog": "simulator.cli.describe",
    "schema": "simulator.cli.describe",
    "inspect": "simulator.cli.inspect",
    "init": "simulator.cli.init",
    "sweep": "simulator.cli.studies",
    "sensitivity": "simulator.cli.studies",
    "compare": "simulator.cli.compare",
    "qa": "simulator.cli.qa",
}
"""Each command, in the order ``--help`` lists them, and the module whose function of that name it
runs. A command's module is imported when the command is looked up (to run it, or to show its help),
so ``remnant validate`` does not import the run's pipeline, figures and outputs, nor ``remnant run``
the studies' and comparisons' libraries. The one exception, with the Dask backend, to the rule that
project modules are imported at module top (``tests/test_architecture.py`` checks this table)."""

BAD_INPUT = 2
"""Exit code of a bad input or usage error."""
ENVIRONMENT = 3
"""Exit code of a failure of the machine or its files: disk full, permissions, memory, network."""
INTERNAL = 4
"""Exit code of an unexpected error inside remnant (a bug)."""
INTERRUPTED = 130
"""Exit code of a run stopped by Ctrl-C (128 + SIGINT)."""
MAX_HELP_WIDTH = 160
"""``--help`` uses the terminal's width up to this many columns."""

_OS_FIXES = {
    errno.ENOSPC: "free some disk space or write to another disk (--out)",
    errno.EDQUOT: "free some of your disk quota or write to another disk (--out)",
    errno.EACCES: "choose a folder you may write to (--out), or change its permissions",
    errno.EPERM: "choose a folder you may write to (--out), or change its permissions",
    errno.EROFS: "choose a folder on a writable file system (--out)",
    errno.ENAMETOOLONG: "use a shorter path",
    errno.ENOTDIR: "a part of the path is a file, not a folder: choose another path",
    errno.EISDIR: "give a file, not a folder",
    errno.EIO: "check the disk; the file system reported an input/output error",
}
"""What to do about an operating-system error, by errno."""


def _version(show: bool) -> None:
    if show:
        out.print(f"remnant {__version__}", highlight=False)
        raise typer.Exit(0)


def _debug(ctx: typer.Context,
           debug: bool = typer.Option(False, "--debug", help="show the traceback of any error (before the command)"),
           version: bool = typer.Option(False, "--version", help="print remnant's version and exit",
                                        callback=_version, is_eager=True),
           ) -> None:
    """Simulate cluster munition remnant contamination and land release, for humanitarian mine action."""


class _PlainFlags:
    """Flags (options that take no value) shown without a ``<bool>`` type in ``--help``."""

    def get_params(self, ctx):
        params = super().get_params(ctx)
        for param in params:
            if getattr(param, "is_flag", False) and param.metavar is None:
                param.metavar = ""
        return params


class Command(_PlainFlags, typer.core.TyperCommand):
    """A ``remnant`` command."""


class _Commands(MutableMapping):
    """The commands of ``COMMANDS`` by name, each built from its module's function when first looked up."""

    def __init__(self, markup_mode):
        self.markup_mode = markup_mode
        self.built: dict[str, click.Command] = {}

    def __getitem__(self, name: str) -> click.Command:
        if name not in self.built:
            if name not in COMMANDS:
                raise KeyError(name)
            function = getattr(importlib.import_module(COMMANDS[name]), name)
            self.built[name] = typer.main.get_command_from_info(
                typer.models.CommandInfo(callback=function, cls=Command), pretty_exceptions_short=True,
                rich_markup_mode=self.markup_mode)
        return self.built[name]

    def __setitem__(self, name: str, command: click.Command) -> None:
        self.built[name] = command

    def __delitem__(self, name: str) -> None:
        del self.built[name]

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys([*COMMANDS, *self.built]))

    def __len__(self) -> int:
        return len(set(COMMANDS) | set(self.built))


class Group(_PlainFlags, typer.core.TyperGroup):
    """The ``remnant`` command group, whose commands are built when looked up (``COMMANDS``)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.commands = _Commands(self.rich_markup_mode)

    def list_commands(self, ctx) -> list[str]:
        return list(self.commands)  # names only: a listed command is built when its help is shown


app = typer.Typer(
    name="remnant",
    cls=Group,
    no_args_is_help=True,
    add_completion=True,  # --install-completion and --show-completion (bash, zsh, fish, PowerShell)
    pretty_exceptions_enable=False,
    callback=_debug,
)


def _fail(message: str, code: int, debug: bool) -> None:
    if debug:
        traceback.print_exc()
    err.print(Text.assemble(("remnant: error:", "bold red"), " ", one_line(message)), highlight=False, soft_wrap=True)
    sys.exit(code)


def os_error_line(exc: OSError) -> str:
    """``file: what went wrong; what to do`` for an operating-system error."""
    where = ": ".join(str(name) for name in (exc.filename, exc.filename2) if name is not None)
    what = exc.strerror or str(exc) or type(exc).__name__
    fix = _OS_FIXES.get(exc.errno, "check the path and the disk")
    return f"{where + ': ' if where else ''}{what.lower()}; {fix}; no outputs were written or changed"


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Input warnings as one line on stderr; others as Python shows them."""
    if issubclass(category, InputWarning):
        err.print(Text.assemble(("remnant: warning:", "yellow"), " ", one_line(str(message))), highlight=False,
                  soft_wrap=True)
    else:
        _python_warning(message, category, filename, lineno, file, line)


_python_warning = warnings.showwarning


def _files_only_figures() -> None:
    """Figures are drawn to files (matplotlib's Agg backend, whatever the environment's display),
    told to matplotlib through its environment variable when it is not imported yet, so that
    commands drawing no figure need not import it."""
    if "matplotlib" in sys.modules:
        sys.modules["matplotlib"].use("Agg")
    else:
        os.environ["MPLBACKEND"] = "Agg"


def _help_width() -> None:
    """Let typer's rich help use the terminal's width (it keeps to 80 columns otherwise), told to
    typer through its environment variable when its help module is not imported yet (it costs 0.05 s,
    and only help and usage errors need it)."""
    width = max(40, min(shutil.get_terminal_size(fallback=(100, 24)).columns, MAX_HELP_WIDTH))
    if "typer.rich_utils" in sys.modules:
        sys.modules["typer.rich_utils"].MAX_WIDTH = width
    else:
        os.environ["TERMINAL_WIDTH"] = str(width)


def _terminated(signum, frame) -> None:
    """SIGTERM (a scheduler's or a user's kill) stops a run as Ctrl-C does: staging removed, checkpoint kept."""
    raise KeyboardInterrupt


def main() -> None:
    """Entry point: every failure is one line on stderr and a documented exit code, never a traceback."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _terminated)
    _files_only_figures()
    _help_width()
    warnings.showwarning = _show_warning
    warnings.simplefilter("always", InputWarning)
    args = sys.argv[1:]
    debug = "--debug" in args[: next((i for i, a in enumerate(args) if not a.startswith("-")), len(args))]
    try:
        try:
            code = app(standalone_mode=False, prog_name="remnant")
        finally:
            release_all()  # the output folder's lock, and checkpoints no resume can use
    except InputError as exc:
        if debug:
            traceback.print_exc()
        err.print(Text.assemble(("remnant: error:", "bold red"), " ", exc.line()), highlight=False, soft_wrap=True)
        for line in exc.more:
            err.print(f"  {line}", highlight=False, soft_wrap=True)
        sys.exit(BAD_INPUT)
    except KeyboardInterrupt:
        code = INTERRUPTED
    except MemoryError:
        _fail("the run ran out of memory; no outputs were written. "
              "Use larger cells, a smaller extent or fewer realizations.", ENVIRONMENT, debug)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except (typer.Abort, EOFError):
        _fail("aborted", ENVIRONMENT, debug)
    except click.exceptions.NoArgsIsHelpError:  # the help was shown
        sys.exit(BAD_INPUT)
    except click.ClickException as exc:  # usage errors: unknown option, bad value, missing argument
        command = exc.ctx.command_path if getattr(exc, "ctx", None) is not None else "remnant"
        _fail(f"{exc.format_message()} (see `{command} --help`)", BAD_INPUT, debug)
    except OSError as exc:
        _fail(os_error_line(exc), ENVIRONMENT, debug)
    except Exception as exc:  # noqa: BLE001 - the funnel: a bug is still one line, with --debug for its traceback
        text = " ".join(str(exc).split())[:200]
        _fail(f"internal error ({type(exc).__name__}{': ' + text if text else ''}); "
              "no outputs were written or changed. Rerun with `remnant --debug ...` and report the traceback.",
              INTERNAL, debug)
    if code == INTERRUPTED:  # typer turns Ctrl-C into this exit code
        err.print("remnant: interrupted; no outputs were written or changed. "
                  "Run the same command with --resume to finish from the last checkpoint.", highlight=False,
                  soft_wrap=True)
    if isinstance(code, int) and code:
        sys.exit(code)
