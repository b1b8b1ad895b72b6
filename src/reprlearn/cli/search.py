"""``reprlearn search STORE QUERY...``: nearest items to a text, an image or ids."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.markup import escape

from reprlearn.cli.app import app, console, err_console


@app.command("search")
def search_command(
    store: Path = typer.Argument(..., help="An embedding store folder (from `reprlearn embed`)."),
    query: list[str] = typer.Argument(
        ..., help='A text ("a warm film"), an image path, or id:N (several ids: their mean).'
    ),
    k: int = typer.Option(10, "--k", help="Results to show."),
    exact: bool = typer.Option(False, "--exact", help="Exact search even with an index."),
    as_json: bool = typer.Option(False, "--json", help='Print {"query", "results"} as JSON.'),
) -> None:
    """Find the K store items nearest to QUERY: texts and images are embedded with the
    store's own encoder; id:N uses the stored vector (several ids: their mean). Uses the
    store's index when it has one, else searches exactly and says so."""
    from reprlearn.search.query import search

    result = search(store, query, k, exact=exact)
    for note in result.notes:
        err_console.print(f"[dim]note: {escape(note)}[/]", highlight=False)
    if as_json:
        typer.echo(json.dumps(result.to_dict(), indent=1, ensure_ascii=False))
        return
    console.print(result.table())
