"""``reprlearn inspect STORE --out DIR``: neighbours, similarity matrix, 2-D map, geometry."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from reprlearn.cli.app import app, console


@app.command("inspect")
def inspect_command(
    store: Path = typer.Argument(..., help="An embedding store folder (from `reprlearn embed`)."),
    out: Path = typer.Option(..., "--out", "-o", help="Folder for the PNGs, CSV and JSON."),
    sample: int = typer.Option(20, "--sample", help="Items in the similarity matrix and table."),
    projection: str = typer.Option("pca", "--projection", help="2-D map: pca, tsne or umap."),
    k: int = typer.Option(5, "--k", help="Nearest neighbours per item."),
    seed: int = typer.Option(0, "--seed", help="Seed of the samples."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON only."),
) -> None:
    """Look inside an embedding store: nearest neighbours of a label-stratified sample,
    their cosine-similarity matrix (similarity.png), a 2-D map (map.png), neighbour
    label agreement and label-free geometry (geometry.json) with a verdict."""
    from reprlearn.analysis.inspect import inspect

    result = inspect(store, out, sample=sample, projection=projection, k=k, seed=seed)
    if as_json:
        typer.echo(json.dumps(result.to_dict(), indent=1))
        return
    console.print(result.table())
    g = result.geometry
    colour = "green" if g.status == "healthy" else "yellow"
    console.print(f"[bold {colour}]{result.verdict}[/]")
    for warning in g.warnings:
        console.print(f"[yellow]  also: {warning}[/]")
    console.print(
        f"effective rank {g.effective_rank:.1f} of {g.max_rank} · mean cosine "
        f"{g.anisotropy:.2f} · uniformity {g.uniformity:.2f} (isotropic "
        f"{g.uniformity_isotropic:.2f}) · hubness {g.hubness:.2f}",
        highlight=False,
    )
    for note in result.notes:
        console.print(f"[dim]note: {note}[/]")
    console.print(f"wrote {', '.join(result.files)} to {out}", highlight=False)
