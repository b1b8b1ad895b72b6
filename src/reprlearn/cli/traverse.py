"""``reprlearn traverse RUN SOURCE``: vary one latent dim at a time around one input's code."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from reprlearn.cli.app import app, console, fail
from reprlearn.errors import ReprlearnError


@app.command()
def traverse(
    run: Annotated[Path, typer.Argument(help="run folder of `reprlearn pretrain --method ae|vae`")],
    source: Annotated[str, typer.Argument(help="where the input comes from (digits, shapes...)")],
    index: Annotated[int, typer.Option(min=0, help="row of SOURCE to start from")] = 0,
    steps: Annotated[
        int, typer.Option(min=2, max=64, help="values per dim, evenly over [-R, R]")
    ] = 7,
    limit: Annotated[float, typer.Option(help="R: the range of each dim's values")] = 3.0,
    dims: Annotated[str | None, typer.Option(help="comma-separated dims (default all)")] = None,
    out: Annotated[Path, typer.Option(help="PNG to write")] = Path("traversal.png"),
    as_json: Annotated[bool, typer.Option("--json", help="print the result as JSON")] = False,
) -> None:
    """Decoded codes: rows = latent dims, columns = values in [-R, R] (Higgins et al. 2017)."""
    import torch

    from reprlearn.training.generative import (
        load_generative_run,
        load_inputs,
        save_grid,
        traverse_latents,
    )
    from reprlearn.training.image_grid import check_png_out

    if not 0 < limit < float("inf"):
        raise fail(f"--limit must be a positive number (the range [-R, R]), got {limit}")
    try:
        check_png_out(out)
        method, config = load_generative_run(run)
    except ReprlearnError as e:  # no such run, not an AE/VAE, bad --out
        raise fail(str(e)) from None
    latent = method.latent_dim
    try:
        chosen = [int(d) for d in dims.split(",")] if dims else list(range(latent))
    except ValueError:
        raise fail(f"--dims expects comma-separated integers, got {dims!r}") from None
    if any(not 0 <= d < latent for d in chosen):
        raise fail(f"--dims must lie in 0..{latent - 1} (the run's latent_dim is {latent})")
    try:
        x = load_inputs(source, config, 1, index)
    except (ReprlearnError, ValueError) as e:  # no such source or row
        raise fail(str(e)) from None
    values = torch.linspace(-limit, limit, steps)
    path = save_grid(traverse_latents(method, x, values, chosen), out)
    result = {"run": str(run), "source": source, "index": index, "dims": chosen,
              "values": [round(float(v), 4) for v in values], "out": str(path)}  # fmt: skip
    if as_json:
        console.print_json(json.dumps(result))
    else:
        console.print(f"wrote a {len(chosen)} x {steps} traversal to [bold]{escape(str(path))}[/]")
