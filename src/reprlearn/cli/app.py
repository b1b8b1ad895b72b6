"""The typer application every command module registers on (``@app.command()``).

The two rich consoles print user-supplied strings (names, labels, paths) as given:
``emoji=False`` (``pca:abc:`` is not an emoji code) and callers wrap such strings in
:func:`rich.markup.escape`. Tables are never cut when output is piped or logged: on a
terminal the console takes the terminal's width; otherwise ``COLUMNS`` when set, else
:data:`PIPE_WIDTH` columns (rich's default of 80 squeezed the examples of
``reprlearn encoders`` to ``timm:resnet50…``).
"""

from __future__ import annotations

import os
import sys
from typing import TextIO

import typer
from rich.console import Console, ConsoleDimensions
from rich.markup import escape

PIPE_WIDTH = 200

app = typer.Typer(
    name="reprlearn",
    help="Representation learning on your own data: embed, inspect, evaluate, compare.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def console_width(stream: TextIO) -> int | None:
    """Width for a console writing to ``stream``: None (rich detects it) on a terminal or
    when ``COLUMNS`` is set, else :data:`PIPE_WIDTH` (piped output, log files, CI)."""
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):
        tty = False
    if tty or os.environ.get("COLUMNS", "").isdigit():
        return None
    return PIPE_WIDTH


class _Console(Console):
    """A rich Console whose width follows :func:`console_width` of the stream it writes to
    at print time (tests and ``reprlearn ... | tee`` swap ``sys.stdout``)."""

    def __init__(self, *, stderr: bool = False) -> None:
        super().__init__(stderr=stderr, emoji=False)
        self._stderr_stream = stderr

    @property
    def size(self) -> ConsoleDimensions:  # type: ignore[override]
        dims = Console.size.fget(self)  # type: ignore[attr-defined]
        fixed = console_width(sys.stderr if self._stderr_stream else sys.stdout)
        return ConsoleDimensions(fixed, dims.height) if fixed else dims

    @size.setter
    def size(self, value: tuple[int, int]) -> None:
        Console.size.fset(self, value)  # type: ignore[attr-defined]


console = _Console()
err_console = _Console(stderr=True)


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print ``message`` as an error (no traceback) and return the Exit to raise."""
    # soft_wrap: one line however long (logs and `grep error:` see the whole message)
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(code)
