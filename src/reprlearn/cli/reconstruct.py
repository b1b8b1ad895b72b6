"""``reprlearn reconstruct RUN SOURCE``: inputs above their AE/VAE reconstructions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from reprlearn.cli.app import app, console, fail
from reprlearn.errors import ReprlearnError


@app.command()
def reconstruct(
    run: Annotated[Path, typer.Argument(help="run folder of `reprlearn pretrain --method ae|vae`")],
    source: Annotated[str, typer.Argument(help="images to reconstruct (digits, shapes...)")],
    n: Annotated[int, typer.Option("--n", min=1, max=1024, help="number of inputs")] = 16,
    start: Annotated[int, typer.Option(min=0, help="first row of SOURCE")] = 0,
    out: Annotated[Path, typer.Option(help="PNG to write")] = Path("recon.png"),
    as_json: Annotated[bool, typer.Option("--json", help="print the result as JSON")] = False,
) -> None:
    """Save a grid: row 1 = inputs, row 2 = reconstructions; report the mean squared error."""
    import torch

    from reprlearn.training.generative import (
        load_generative_run,
        load_inputs,
        reconstruct_images,
        save_grid,
    )
    from reprlearn.training.image_grid import check_png_out

    try:
        check_png_out(out)
        method, config = load_generative_run(run)
        x = load_inputs(source, config, n, start)
        recon = reconstruct_images(method, x)
        path = save_grid(torch.stack([x, recon]), out)
    except (ReprlearnError, ValueError) as e:  # no such run/source/row, bad --out
        raise fail(str(e)) from None
    mse = float(((recon - x) ** 2).mean())
    result = {"run": str(run), "source": source, "n": len(x), "mse": mse, "out": str(path)}
    if as_json:
        console.print_json(json.dumps(result))
    else:
        console.print(
            f"wrote {len(x)} inputs + reconstructions to [bold]{escape(str(path))}[/] (MSE {mse:.4f})"
        )
