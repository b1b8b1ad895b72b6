"""``reprlearn generate RUN``: images decoded from a VAE's prior, saved as a PNG grid."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from reprlearn.cli.app import app, console


@app.command()
def generate(
    run: Annotated[Path, typer.Argument(help="run folder of `reprlearn pretrain --method vae`")],
    n: Annotated[int, typer.Option("--n", min=1, help="number of samples")] = 64,
    out: Annotated[Path, typer.Option(help="PNG to write")] = Path("samples.png"),
    seed: Annotated[int, typer.Option(help="seed of the z draws")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="print the result as JSON")] = False,
) -> None:
    """Decode N draws z ~ N(0, I) of a VAE run into a grid of images (Kingma & Welling 2014)."""
    from reprlearn.training.generative import load_generative_run, sample_images, save_grid

    method, _ = load_generative_run(run)
    path = save_grid(sample_images(method, n, seed), out)
    result = {"run": str(run), "method": method.name, "n": n, "seed": seed, "out": str(path)}
    if as_json:
        console.print_json(json.dumps(result))
    else:
        console.print(f"wrote {n} samples of {run} to [bold]{path}[/]")
