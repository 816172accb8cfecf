"""The `datagen` command line: a thin shell over the library.

Each command lives in `datagen/commands/<name>.py` and registers itself on `app`. This module owns
the one place where errors become `Error: ...` plus an exit code (no traceback unless `--debug`).
"""

from __future__ import annotations

import errno
import functools
import importlib
import os
import sys
import traceback
from typing import Any

import click
import typer

from datagen.commands import (
    adapt,
    audit,
    cc3m,
    context,
    demo,
    diff,
    export,
    generate,
    judge,
    review,
    stats,
    templates,
)
from datagen.commands import eval as eval_cmd
from datagen.commands._help import decorate
from datagen.commands._renames import modernize
from datagen.errors import DatagenError, redact

app = typer.Typer(
    name="datagen",
    help="Generate multimodal instruction-tuning data from image annotations with any OpenAI-compatible LLM.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",  # help panels; commands/_help.py escapes every help text first
)

# Command modules, each exposing `register(app)`. Order is the order in `datagen --help`. They import
# the library lazily inside each command, so `datagen --help` stays fast.
COMMAND_MODULES = [
    demo,
    context,
    generate,
    judge,
    templates,
    export,
    cc3m,
    adapt,
    review,
    stats,
    diff,
    eval_cmd,
    audit,
]


def _version(value: bool) -> None:
    if value:
        from datagen import __version__

        typer.echo(f"datagen {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="Show full tracebacks on errors."),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version."
    ),
) -> None:
    """datagen: LLaVA-style instruction data, MiniGPT-4 rewrites and CC3M concept-balanced pairs."""
    if debug:
        os.environ["DATAGEN_DEBUG"] = "1"


for _module in COMMAND_MODULES:
    _module.register(app)


@functools.lru_cache(maxsize=1)
def command() -> Any:
    """The click command tree of `app`, with the help panels and examples of commands/_help.py."""
    return decorate(typer.main.get_command(app))


def _click_classes(name: str) -> tuple[type[BaseException], ...]:
    """`name` from click and, for typer releases that vendor their own copy, from `typer._click`."""
    classes: list[type[BaseException]] = [getattr(click.exceptions, name)]
    try:
        vendored = importlib.import_module("typer._click.exceptions")
        classes.append(getattr(vendored, name))
    except (ImportError, AttributeError):
        pass
    return tuple(classes)


_ABORT = _click_classes("Abort")
_CLICK_ERROR = _click_classes("ClickException")


def _debug_requested(argv: list[str]) -> bool:
    return "--debug" in argv or os.environ.get("DATAGEN_DEBUG") == "1"


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: run the app and funnel every known error into one line."""
    args = sys.argv[1:] if argv is None else argv
    if not [a for a in args if a != "--debug"]:
        args = [*args, "--help"]  # bare `datagen`: the command list, exit 0
    try:
        args = modernize(args, warn=lambda text: typer.echo(text, err=True))
        code = command().main(args=args, prog_name="datagen", standalone_mode=False)
        if code == 130:
            # typer turns Ctrl-C into a silent `Exit(130)` return before our handler below sees it
            raise KeyboardInterrupt
    except DatagenError as e:
        if _debug_requested(args):
            sys.stderr.write(redact(traceback.format_exc()))  # a message may quote the key
        typer.echo(f"Error: {redact(str(e))}", err=True)
        sys.exit(e.exit_code)
    except _ABORT:
        typer.echo("Aborted.", err=True)
        sys.exit(130)
    except KeyboardInterrupt:
        typer.echo(
            "Interrupted; everything finished so far is saved. Re-run the same command to resume.", err=True
        )
        sys.exit(130)
    except _CLICK_ERROR as e:
        e.show()  # type: ignore[attr-defined]
        sys.exit(e.exit_code)  # type: ignore[attr-defined]
    except BrokenPipeError:
        sys.exit(0)
    except OSError as e:
        # The file system said no (unwritable --out, a file where a folder must go, disk full):
        # the user's to fix, so one line naming the path, not an "internal error".
        if e.errno not in _USER_OS_ERRORS:
            _internal_error(e, args)
        if _debug_requested(args):
            sys.stderr.write(redact(traceback.format_exc()))  # a message may quote the key
        typer.echo(f"Error: {redact(_os_error_text(e))}", err=True)
        sys.exit(1)
    except Exception as e:  # an unexpected bug: still one line unless --debug
        _internal_error(e, args)
    sys.exit(code if isinstance(code, int) else 0)


def _internal_error(e: Exception, args: list[str]) -> None:
    if _debug_requested(args):
        sys.stderr.write(redact(traceback.format_exc()))
    typer.echo(
        f"Error: internal error {type(e).__name__}: {redact(str(e))} (re-run with --debug and report it)",
        err=True,
    )
    sys.exit(70)


_USER_OS_ERRORS = {
    errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOSPC, errno.EDQUOT, errno.EEXIST,
    errno.ENOTDIR, errno.EISDIR, errno.ENOENT, errno.ENAMETOOLONG, errno.EBUSY,
}  # fmt: skip


def _os_error_text(e: OSError) -> str:
    where = e.filename if e.filename is not None else "a file"
    what = e.strerror or str(e)
    if e.errno in (errno.EEXIST, errno.ENOTDIR):
        return f"{where}: {what} (a file stands where a folder is needed; choose another --out)"
    return f"{where}: {what} (check the path and its permissions, or choose another --out)"


if __name__ == "__main__":  # python -m datagen.cli --write-docs | --check-docs (docs/cli.md)
    from datagen.commands import _clidoc

    sys.exit(_clidoc.main(sys.argv[1:], command()))
