"""``reprlearn augment``: a grid of original images and their augmented views."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.markup import escape

from reprlearn.cli import _options as o
from reprlearn.cli.app import app, console, fail
from reprlearn.errors import ReprlearnError


def augment_grid(images, recipe_name: str, views: int, seed: int = 0):
    """uint8 ``(n, C, H, W)`` -> float ``(n * (views + 1), C, S, S)``: each original, then views."""
    import torch

    from reprlearn.augment.ssl_views import recipe

    x = images.float() / 255
    aug = recipe(recipe_name, x.shape[-1]).reseed(seed)
    size = aug.size
    orig = torch.nn.functional.interpolate(x, size=(size, size)) if x.shape[-1] != size else x
    rows = [orig] + [aug(x) for _ in range(views)]
    return torch.stack(rows, dim=1).flatten(0, 1)


@app.command()
def augment(
    source: o.Source,
    recipe: Annotated[str, typer.Option(help="simclr | byol | vicreg | digits | none")] = "simclr",
    out: Annotated[str, typer.Option("--out", "-o", help="PNG file")] = "augment.png",
    n: Annotated[int, typer.Option(min=1, max=256, help="images (rows)")] = 8,
    views: Annotated[int, typer.Option(min=1, max=32, help="augmented views per image")] = 6,
    seed: Annotated[int, typer.Option(help="random seed")] = 0,
    split: o.Split = None,
    data_dir: o.DataDir = None,
    json_: o.Json = False,
) -> None:
    """Draw N images of SOURCE (first column) and VIEWS augmented views each, as a PNG grid.

    Tiles are upscaled (nearest-neighbour) to at least 96 px, the grid to at least 800 px
    wide, so 8 px digits and 32 px CIFAR images can be seen.
    """
    from reprlearn.augment.ssl_views import RECIPES
    from reprlearn.training.data import load_image_data
    from reprlearn.training.image_grid import check_png_out, save_grid

    o.quiet_datasets()
    if recipe not in RECIPES:
        raise fail(f"unknown recipe {recipe!r}; choose one of {', '.join(RECIPES)}")
    try:
        path = check_png_out(out)
        data = load_image_data(source, max_items=n, holdout=0.0, seed=seed,
                               source_options=o.data_options(split=split, data_dir=data_dir))  # fmt: skip
    except (ReprlearnError, ValueError) as e:
        raise fail(str(e)) from None
    grid = augment_grid(data.train, recipe, views, seed)
    save_grid(grid, path, ncol=views + 1)
    summary = {"out": str(path), "recipe": recipe, "images": len(data.train), "views": views}
    if json_:
        console.print_json(json.dumps(summary))
    else:
        console.print(
            f"wrote {escape(str(path))}: {len(data.train)} images x (1 + {views} {escape(recipe)} views)"
        )
