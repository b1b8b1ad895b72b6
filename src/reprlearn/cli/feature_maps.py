"""``reprlearn feature-maps``: the activation maps of chosen layers for one input image."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from reprlearn.cli import _options as o
from reprlearn.cli.app import app, console


@app.command("feature-maps")
def feature_maps(
    model: o.ImageModel,
    image: Annotated[str, typer.Argument(help="an image file (PNG, JPEG, ...)")],
    out: Annotated[str, typer.Option("--out", "-o", help="PNG to write")] = "maps.png",
    layers: Annotated[
        str | None,
        typer.Option(
            help="comma-separated dotted layer names (default: up to 4 evenly spaced "
            "convolutions, the last included)"
        ),
    ] = None,  # fmt: skip
    channels: Annotated[int, typer.Option(help="most active channels shown per layer")] = 8,
    random_weights: o.RandomWeights = False,
) -> None:
    """Draw what layers of MODEL output for IMAGE: one row per layer, its most active
    channels; a channel lights up where the image holds the pattern it detects."""
    from reprlearn.data.items import open_image_file
    from reprlearn.explain.feature_maps import save_feature_maps
    from reprlearn.explain.model import load_explainable

    net = load_explainable(model, random_weights=random_weights)
    pil = open_image_file(image)
    x = net.encoder.collate([net.encoder.preprocess(pil)]).float()
    import numpy as np

    display = np.asarray(pil.resize((x.shape[-1], x.shape[-2])), dtype=np.float32) / 255.0
    names = [s.strip() for s in layers.split(",") if s.strip()] if layers else None
    path, shown = save_feature_maps(net.module, x, out, layers=names, channels=channels,
                                    display=display, title=net.name)  # fmt: skip
    console.print(f"wrote the maps of {escape(', '.join(shown))} to [bold]{escape(str(path))}[/]")
