"""Shared plumbing of evaluation results: JSON-able ``to_dict`` and a rich ``table``."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
from rich.markup import escape
from rich.table import Table


def jsonable(value: Any) -> Any:
    """Convert numpy scalars/arrays (nested in dicts, lists, dataclasses) to plain Python."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


class ResultMixin:
    """``to_dict()`` for result dataclasses; subclasses implement :meth:`rows` for ``table()``."""

    title: str = "result"

    def to_dict(self) -> dict[str, Any]:
        """All fields as plain JSON-able Python (numpy arrays become lists)."""
        return jsonable(self)

    def rows(self) -> list[tuple[str, str]]:
        """(metric, value) rows shown by :meth:`table`."""
        return [
            (f.name, fmt(getattr(self, f.name)))
            for f in dataclasses.fields(self)  # type: ignore[arg-type]
            if isinstance(getattr(self, f.name), int | float | str)
        ]

    def table(self) -> Table:
        """A two-column rich Table (metric, value)."""
        table = Table(title=escape(str(self.title)))
        table.add_column("metric")
        table.add_column("value", justify="right")
        for name, value in self.rows():
            table.add_row(name, escape(value))
        return table

    def __str__(self) -> str:
        """The table as plain text, so ``print(result)`` shows it."""
        return plain_text(self.table())


def plain_text(renderable: Any, width: int = 160) -> str:
    """Render a rich renderable (a Table) as plain text, no colours or markup codes.

    ``width`` (characters, default 160) bounds the lines; columns fold rather than vanish.
    """
    import io

    from rich.console import Console

    buffer = io.StringIO()
    console = Console(file=buffer, width=width, color_system=None, emoji=False, highlight=False)
    console.print(renderable)
    return buffer.getvalue().rstrip("\n")


def fmt(value: Any, digits: int = 4) -> str:
    """Format a number for a table (floats to ``digits`` significant decimals)."""
    if isinstance(value, float | np.floating):
        return (
            f"{value:.{digits}g}"
            if abs(value) >= 1e4 or 0 < abs(value) < 1e-3
            else f"{value:.{digits}f}".rstrip("0").rstrip(".")
        )
    return str(value)
