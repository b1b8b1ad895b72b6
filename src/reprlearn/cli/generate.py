"""``reprlearn generate RUN``: images decoded from a VAE's prior, saved as a PNG grid."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from reprlearn.cli.app import app, console, fail
from reprlearn.errors import ReprlearnError


@app.command()
def generate(
    run: Annotated[Path, typer.Argument(help="run folder of `reprlearn pretrain --method vae`")],
    n: Annotated[int, typer.Option("--n", min=1, max=4096, help="number of samples")] = 64,
    out: Annotated[Path, typer.Option(help="PNG to write")] = Path("samples.png"),
    seed: Annotated[int, typer.Option(min=0, help="seed of the z draws")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="print the result as JSON")] = False,
) -> None:
    """Decode N draws z ~ N(0, I) of a VAE run into a grid of images (Kingma & Welling 2014)."""
    from reprlearn.training.generative import load_generative_run, sample_images, save_grid
    from reprlearn.training.image_grid import check_png_out

    try:
        check_png_out(out)
        method, _ = load_generative_run(run)
        path = save_grid(sample_images(method, n, seed), out)
    except (ReprlearnError, ValueError) as e:  # no such run, not a VAE, bad --out
        raise fail(str(e)) from None
    result = {"run": str(run), "method": method.name, "n": n, "seed": seed, "out": str(path)}
    if as_json:
        console.print_json(json.dumps(result))
    else:
        console.print(f"wrote {n} samples of {escape(str(run))} to [bold]{escape(str(path))}[/]")
