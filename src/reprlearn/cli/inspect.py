"""``reprlearn inspect STORE --out DIR``: neighbours, similarity matrix, 2-D map, geometry."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.markup import escape

from reprlearn.cli.app import app, console


@app.command("inspect")
def inspect_command(
    store: Path = typer.Argument(..., help="An embedding store folder (from `reprlearn embed`)."),
    out: Path = typer.Option(..., "--out", "-o", help="Folder for the PNGs, CSVs and JSON."),
    sample: int = typer.Option(20, "--sample", help="Items in the similarity matrix and table."),
    classes: str | None = typer.Option(
        None, "--classes", help="Comma-separated class names to sample (default: at random)."
    ),
    queries: list[str] | None = typer.Option(
        None,
        "--queries",
        help="A query text, or a file with one per line (repeatable): its nearest items, "
        "embedded with the store's own encoder.",
    ),
    projection: str = typer.Option("pca", "--projection", help="2-D map: pca, tsne or umap."),
    k: int = typer.Option(5, "--k", help="Nearest neighbours per item."),
    seed: int = typer.Option(0, "--seed", help="Seed of the sampled classes and items."),
    max_rows: int | None = typer.Option(
        None,
        "--max-rows",
        help="Rows loaded at most; a bigger store is inspected on a seeded "
        "sample (default: 1 GiB of vectors, at most 1,000,000 rows).",
    ),
    overwrite: bool = typer.Option(
        False, "--overwrite", help="Replace an existing inspect folder at --out."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON only."),
) -> None:
    """Look inside an embedding store: nearest neighbours of a sample drawn from --seed
    (classes at random, or --classes), their cosine-similarity matrix (similarity.png), a
    2-D map (map.png, map.csv), neighbour label agreement and label-free geometry
    (geometry.json) with a verdict; --queries lists the nearest items of your own texts."""
    from reprlearn.analysis.inspect import inspect, read_queries
    from reprlearn.outdir import prepare_out_dir

    chosen = [c.strip() for c in classes.split(",") if c.strip()] if classes else None
    texts = read_queries(queries) if queries else None
    out = prepare_out_dir(out, kind="inspect", overwrite=overwrite)
    result = inspect(
        store, out, sample=sample, classes=chosen, queries=texts, projection=projection, k=k,
        seed=seed, max_rows=max_rows,
    )  # fmt: skip
    if as_json:
        typer.echo(json.dumps(result.to_dict(), indent=1))
        return
    console.print(result.table())
    g = result.geometry
    colour = "green" if g.status == "healthy" else "yellow"
    console.print(f"[bold {colour}]{escape(result.verdict)}[/]")
    for warning in g.warnings:
        console.print(f"[yellow]  also: {escape(warning)}[/]")
    console.print(
        f"effective rank {g.effective_rank:.1f} of {g.max_rank} · mean cosine "
        f"{g.anisotropy:.2f} · uniformity {g.uniformity:.2f} (isotropic "
        f"{g.uniformity_isotropic:.2f}) · hubness {g.hubness:.2f}",
        highlight=False,
    )
    for note in result.notes:
        console.print(f"[dim]note: {escape(note)}[/]")
    console.print(f"wrote {escape(', '.join(result.files))} to {escape(str(out))}", highlight=False)
