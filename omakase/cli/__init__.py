"""The `omakase` command line: one module per command family, each thin.

Every error a user can cause ends here as one line on stderr and exit code 2:
OmakaseError from the library, usage errors from the argument parser.
"""

from __future__ import annotations

import errno
import sys

try:  # Ctrl-C while the commands are still loading ends as Ctrl-C does: exit code 130, no traceback
    import typer

    from .. import __version__
    from ..errors import OmakaseError
    from . import assistant, lab, measure, model, service, tour, train, web
except KeyboardInterrupt:
    sys.exit(130)

app = typer.Typer(
    name="omakase",
    help="How does ChatGPT actually work? Ming, a 4,192-dial apprentice chef (a tiny GPT), shows you.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        print(f"omakase {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                      help="Print the version and exit.")) -> None:
    """How does ChatGPT actually work? Ming, a 4,192-dial apprentice chef (a tiny GPT), shows you."""


app.command("tour")(tour.tour)
app.command("train")(train.train)
app.command("cook")(model.cook)
app.command("score")(model.score)
app.command("info")(model.info)
app.command("eval")(measure.eval)
app.command("baseline")(measure.baseline)
app.command("bench")(measure.bench)
app.command("service")(service.service)
app.command("web")(web.web)
app.add_typer(lab.app, name="lab")
app.add_typer(assistant.app, name="assistant")


INTERRUPTED = 130  # the shell's exit code for a program stopped by Ctrl-C


def main(argv: list[str] | None = None) -> int:
    try:
        return _main(argv)
    except KeyboardInterrupt:  # Ctrl-C where no command handles it (loading a model, starting a server)
        print("omakase: interrupted", file=sys.stderr)
        return INTERRUPTED


def _main(argv: list[str] | None) -> int:
    try:
        rv = app(args=argv, prog_name="omakase", standalone_mode=False)
    except OmakaseError as e:
        print(f"omakase: error: {e}", file=sys.stderr)
        return 2
    except typer.TyperException as e:
        if type(e).__name__ == "NoArgsIsHelpError":  # bare `omakase` or `omakase lab`: the help is printed
            return 0
        print(f"omakase: error: {_usage(e, sys.argv[1:] if argv is None else argv)} (see --help)", file=sys.stderr)
        return 2
    except typer.Exit as e:
        return e.exit_code
    except OSError as e:  # a write that passed the checks and still failed (disk full, a vanished folder)
        where = f" {e.filename}" if e.filename else ""
        if e.errno == errno.ENAMETOOLONG:  # a path no file system takes: the command must change
            print(f"omakase: error: the path{where} is too long for this file system; choose a shorter one",
                  file=sys.stderr)
            return 2
        print(f"omakase: error: could not read or write{where}: {e.strerror or e}", file=sys.stderr)
        return 1
    except typer.Abort:
        print("omakase: aborted", file=sys.stderr)
        return INTERRUPTED
    return rv if isinstance(rv, int) else 0


def _usage(e: typer.TyperException, argv: list[str]) -> str:
    """Click's message, and for an unknown short option read out of a longer word ("-inf" is -i, -n, -f to
    the parser) that word too: a value that starts with '-' is read as options unless it follows '--'."""
    message = e.format_message()
    option = getattr(e, "option_name", None)
    if type(e).__name__ == "NoSuchOption" and option and len(option) == 2:
        words = [a for a in argv if a.startswith("-") and not a.startswith("--") and len(a) > 2 and option[1] in a[1:]]
        if words:
            message += f" (read from {words[0]!r}; a value that starts with '-' goes after '--': -- {words[0]})"
    return message


def run() -> None:
    sys.exit(main())
