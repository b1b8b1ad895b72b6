"""``reprlearn filters``: a convolution's kernels as pictures (first conv as RGB patches)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from reprlearn.cli import _options as o
from reprlearn.cli.app import app, console


@app.command()
def filters(
    model: o.ImageModel,
    out: Annotated[str, typer.Option("--out", "-o", help="PNG to write")] = "filters.png",
    layer: Annotated[
        str | None,
        typer.Option(
            help="a convolution's dotted name (default: the first: RGB patches; deeper ones: a "
            "grid of output x input channels)"
        ),
    ] = None,  # fmt: skip
    max_filters: Annotated[int, typer.Option(help="at most this many output channels")] = 64,
    random_weights: o.RandomWeights = False,
) -> None:
    """Draw the filters of a convolution of MODEL: trained first-layer kernels look like
    edge and colour detectors, random ones like noise."""
    from reprlearn.explain.filters import save_filters
    from reprlearn.explain.model import load_explainable

    net = load_explainable(model, random_weights=random_weights)
    path, name = save_filters(net.module, out, layer=layer, title=net.name,
                              max_out=max_filters)  # fmt: skip
    console.print(f"wrote the filters of {escape(name)} to [bold]{escape(str(path))}[/]")
