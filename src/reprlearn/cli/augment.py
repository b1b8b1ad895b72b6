"""``reprlearn augment``: a grid of original images and their augmented views (self-supervised
view recipes, or supervised recipes with MixUp/CutMix tiles captioned with label weights)."""

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


def _supervised(source, recipe, rotate, crop_scale, color_jitter, random_erasing, hflip, mixup,
                cutmix, switch_prob):  # fmt: skip
    """The supervised ImageAugment asked for, or None for an SSL view recipe."""
    from reprlearn.augment.recipes import RECIPES, image_augment

    overrides = (rotate, crop_scale, color_jitter, random_erasing)
    asked = any(v is not None for v in overrides) or hflip or mixup or cutmix
    if recipe not in RECIPES or (recipe == "none" and not asked):
        return None
    try:
        return image_augment(recipe, rotate=rotate, crop_scale=crop_scale,
                             color_jitter=color_jitter, random_erasing=random_erasing, hflip=hflip,
                             mixup=mixup, cutmix=cutmix, switch_prob=switch_prob, source=source)  # fmt: skip
    except ReprlearnError as e:
        raise fail(str(e)) from None


@app.command()
def augment(
    source: o.Source,
    recipe: Annotated[
        str,
        typer.Option(
            help="SSL views: simclr | byol | vicreg | digits; supervised: none | light | default | strong"
        ),
    ] = "simclr",
    rotate: Annotated[
        float | None, typer.Option(help="supervised: rotation range, degrees")
    ] = None,
    crop_scale: Annotated[str | None, typer.Option(help="supervised: crop area range A,B")] = None,
    color_jitter: Annotated[
        float | None, typer.Option(help="supervised: colour jitter strength")
    ] = None,
    random_erasing: Annotated[
        float | None, typer.Option(help="supervised: random-erasing probability")
    ] = None,
    hflip: Annotated[
        float, typer.Option(help="supervised: horizontal-flip probability (opt-in)")
    ] = 0.0,
    mixup: Annotated[
        float, typer.Option(help="MixUp Beta alpha (0: off); tiles show label weights")
    ] = 0.0,
    cutmix: Annotated[float, typer.Option(help="CutMix Beta alpha (0: off)")] = 0.0,
    switch_prob: Annotated[
        float, typer.Option(help="with both: share of views getting CutMix")
    ] = 0.5,
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
    wide, so 8 px digits and 32 px CIFAR images can be seen. Supervised recipes (light,
    default, strong, or none with --mixup/--cutmix/overrides) caption each tile with its
    label; MixUp/CutMix mix each view column as one batch and caption the label weights.
    """
    from reprlearn.augment.ssl_views import RECIPES
    from reprlearn.training.data import load_image_data
    from reprlearn.training.image_grid import check_png_out, save_grid

    o.quiet_datasets()
    supervised = _supervised(source, recipe, rotate, crop_scale, color_jitter, random_erasing,
                             hflip, mixup, cutmix, switch_prob)  # fmt: skip
    if supervised is None and recipe not in RECIPES:
        raise fail(f"unknown recipe {recipe!r}; choose one of {', '.join(RECIPES)}, light, "
                   "default, strong")  # fmt: skip
    try:
        path = check_png_out(out)
        data = load_image_data(source, max_items=n, holdout=0.0, seed=seed,
                               source_options=o.data_options(split=split, data_dir=data_dir))  # fmt: skip
    except (ReprlearnError, ValueError) as e:
        raise fail(str(e)) from None
    if supervised is not None:
        from reprlearn.augment.preview import save_captioned_grid, supervised_views

        if supervised.mixes and data.train_labels is None:
            raise fail(f"{source} has no labels: MixUp/CutMix previews caption label weights")
        tiles, captions = supervised_views(data.train, data.train_labels, data.label_names,
                                           supervised, views, seed)  # fmt: skip
        save_captioned_grid(tiles, captions, path)
    else:
        save_grid(augment_grid(data.train, recipe, views, seed), path, ncol=views + 1)
    summary = {"out": str(path), "recipe": recipe, "images": len(data.train), "views": views,
               "augment": supervised.to_dict() if supervised else None}  # fmt: skip
    if json_:
        console.print_json(json.dumps(summary))
    else:
        console.print(
            f"wrote {escape(str(path))}: {len(data.train)} images x (1 + {views} {escape(recipe)} views)"
        )
