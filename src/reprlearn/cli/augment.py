"""``reprlearn augment``: a grid of original images and their augmented views."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from reprlearn.cli import _options as o
from reprlearn.cli.app import app, console, fail


def augment_grid(images, recipe_name: str, views: int, seed: int = 0):
    """uint8 ``(n, C, H, W)`` -> float ``(n * (views + 1), C, S, S)``: each original, then views."""
    import torch

    from reprlearn.training.augmentations import recipe

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
    n: Annotated[int, typer.Option(help="images (rows)")] = 8,
    views: Annotated[int, typer.Option(help="augmented views per image")] = 6,
    seed: Annotated[int, typer.Option(help="random seed")] = 0,
    split: o.Split = None,
    data_dir: o.DataDir = None,
    json_: o.Json = False,
) -> None:
    """Draw N images of SOURCE (first column) and VIEWS augmented views each, as a PNG grid."""
    from torchvision.utils import save_image

    from reprlearn.training.augmentations import RECIPES
    from reprlearn.training.data import load_image_data

    o.quiet_datasets()
    if recipe not in RECIPES:
        raise fail(f"unknown recipe {recipe!r}; choose one of {', '.join(RECIPES)}")
    data = load_image_data(source, max_items=n, holdout=0.0, seed=seed,
                           source_options=o.data_options(split=split, data_dir=data_dir))  # fmt: skip
    grid = augment_grid(data.train, recipe, views, seed)
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_image(grid, path, nrow=views + 1, padding=1, pad_value=1.0)
    summary = {"out": str(path), "recipe": recipe, "images": len(data.train), "views": views}
    if json_:
        console.print_json(json.dumps(summary))
    else:
        console.print(f"wrote {path}: {len(data.train)} images x (1 + {views} {recipe} views)")
