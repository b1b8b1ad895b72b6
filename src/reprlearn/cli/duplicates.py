"""``reprlearn duplicates STORE [--against OTHER] --out DIR``: near-duplicates, leakage."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.markup import escape

from reprlearn.cli.app import app, console


@app.command("duplicates")
def duplicates_command(
    store: Path = typer.Argument(..., help="An embedding store folder (its index is used)."),
    out: Path = typer.Option(..., "--out", "-o", help="Folder for the CSV, contact sheet, JSON."),
    threshold: float = typer.Option(0.95, "--threshold", help="Cosine at or above: duplicates."),
    against: Path | None = typer.Option(
        None, "--against", help="Another store (a test split): find its items leaked from STORE."
    ),
    k: int = typer.Option(10, "--k", help="Neighbours looked at per item (duplicates only)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing --out."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Groups of exact and near-duplicates in STORE (duplicates.csv + duplicates.png), or
    with --against OTHER the items of OTHER with a near-duplicate in STORE (leakage.csv +
    leakage.png) and, with labels, the linear-probe accuracy on OTHER with and without them."""
    if against is not None:
        from reprlearn.search.leakage import find_leakage

        leak = find_leakage(store, against, out, threshold=threshold, overwrite=overwrite)
        if as_json:
            typer.echo(json.dumps(leak.to_dict(), indent=1))
            return
        console.print(
            f"{leak.num_leaked} of {leak.num_other} items of {against} "
            f"({leak.num_leaked / max(1, leak.num_other):.2%}) have a near-duplicate in {store} "
            f"(cosine >= {threshold}, {leak.method})",
            highlight=False,
        )
        if leak.accuracy_all is not None:
            console.print(
                f"linear probe trained on {store}: accuracy on {against} {leak.accuracy_all:.2%} "
                f"with the leaked items, {leak.accuracy_clean:.2%} without them",
                highlight=False,
            )
        _files(leak.files, leak.notes)
        return
    from reprlearn.search.duplicates import find_duplicates

    dups = find_duplicates(store, out, threshold=threshold, k=k, overwrite=overwrite)
    if as_json:
        typer.echo(json.dumps(dups.to_dict(), indent=1))
        return
    exact = sum(g["kind"] == "exact" for g in dups.groups)
    console.print(
        f"{len(dups.groups)} duplicate groups ({exact} exact, {len(dups.groups) - exact} near) "
        f"in {dups.num_items} items at cosine >= {threshold}: {dups.num_duplicates} items "
        f"could go ({dups.method})",
        highlight=False,
    )
    _files(dups.files, dups.notes)


def _files(files: dict[str, str], notes: list[str]) -> None:
    for note in notes:
        console.print(f"[dim]note: {escape(note)}[/]", highlight=False)
    console.print(f"wrote {', '.join(files.values())}", highlight=False, markup=False)
