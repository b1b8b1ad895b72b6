"""``reprlearn export STORE --format tensorboard --out DIR``."""

from __future__ import annotations

from pathlib import Path

import typer

from reprlearn.cli.app import app, console

FORMATS = ("tensorboard",)


@app.command("export")
def export_command(
    store: Path = typer.Argument(..., help="An embedding store folder (from `reprlearn embed`)."),
    out: Path = typer.Option(..., "--out", "-o", help="Folder to write."),
    format: str = typer.Option(
        "tensorboard", "--format", help="tensorboard (Embedding Projector)."
    ),
    sample: int | None = typer.Option(None, "--sample", help="Export a seeded sample of N items."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing --out."),
) -> None:
    """Export STORE for another tool: --format tensorboard writes tensors.tsv, metadata.tsv
    (with header), sprite.png for images and projector_config.pbtxt for TensorBoard's
    Embedding Projector (`tensorboard --logdir OUT`)."""
    from reprlearn.errors import ReprlearnError

    if format not in FORMATS:
        raise ReprlearnError(f"unknown --format {format!r}: choose one of {', '.join(FORMATS)}")
    from reprlearn.explore.tensorboard import export_tensorboard

    result = export_tensorboard(store, out, sample=sample, overwrite=overwrite)
    sprite = f", sprite {result.thumbnail}px thumbnails" if result.thumbnail else ""
    console.print(
        f"exported {result.num_items} vectors ({result.dim}-d){sprite} to {out}: "
        f"{', '.join(result.files)}; view with `tensorboard --logdir {out}`",
        highlight=False,
        markup=False,
    )
