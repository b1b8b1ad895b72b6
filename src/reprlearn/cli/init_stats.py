"""``reprlearn init-stats``: per-layer activation statistics of a deep MLP at initialisation."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from reprlearn.cli import _options as o
from reprlearn.cli.app import app, console, fail


@app.command("init-stats")
def init_stats(
    init: Annotated[str, typer.Option(help="comma list: zeros, normal:STD, xavier, he, default")] = "zeros,normal:1,normal:0.01,xavier,he",
    activation: Annotated[str, typer.Option(help="comma list: sigmoid, tanh, relu, gelu")] = "sigmoid,tanh,relu",
    depth: Annotated[int, typer.Option(help="hidden layers")] = 10,
    width: Annotated[int, typer.Option(help="units per layer")] = 512,
    n: Annotated[int, typer.Option(help="standard-normal input rows")] = 1000,
    seed: Annotated[int, typer.Option(help="random seed")] = 0,
    out: Annotated[str | None, typer.Option("--out", "-o", help="histogram PNG")] = None,
    json_: o.Json = False,
) -> None:  # fmt: skip
    """Feed N(0,1) inputs through a DEPTH x WIDTH MLP for each init x activation; print each
    layer's std, saturated share (sigmoid <0.01 or >0.99, |tanh| >0.99) and dead-ReLU share,
    and draw per-layer histograms (Glorot & Bengio 2010; He et al. 2015)."""
    from reprlearn.adapt.init_stats import init_stats as run

    inits = [x.strip() for x in init.split(",") if x.strip()]
    acts = [x.strip() for x in activation.split(",") if x.strip()]
    try:
        result = run(inits, acts, depth=depth, width=width, n=n, seed=seed, out=out)
    except ValueError as e:
        raise fail(str(e)) from None
    if json_:
        console.print_json(json.dumps(result.to_dict()))
        return
    shown = sorted({0, depth // 2 - 1, depth - 1} - {-1})
    table = Table(title=f"activations at initialisation ({depth} x {width} MLP)")
    for col in ("init", "activation", *(f"std L{i + 1}" for i in shown), "saturated L5", "dead L1"):
        table.add_column(col, justify="right")
    for r in result.results:
        layers = r["layers"]
        table.add_row(r["init"], r["activation"], *(f"{layers[i]['std']:.3g}" for i in shown),
                      f"{layers[min(4, depth - 1)]['saturated']:.0%}", f"{layers[0]['dead']:.0%}")  # fmt: skip
    console.print(table)
    if out:
        console.print(f"histograms: [bold]{escape(str(out))}[/]")
