"""Preview grids of supervised recipes: each image, then augmented views, each tile captioned
with its label, or with its label weights when MixUp/CutMix mixed it (``cat 0.72 / dog 0.28``).

Views are reproducible: view ``v`` of the grid is :func:`~reprlearn.augment.recipes.augment_images`
with seed ``seed * 1000 + v`` (per-image draws), then mixing under ``torch.manual_seed(seed * 1000 + v)``.
"""

from __future__ import annotations

from pathlib import Path

import torch

from reprlearn.augment.recipes import ImageAugment, augment_images


def supervised_views(images: torch.Tensor, labels: torch.Tensor | None, label_names: list[str] | None,
                     aug: ImageAugment, views: int, seed: int = 0):  # fmt: skip
    """uint8 ``(n, C, H, W)`` -> ``(tiles (n, views + 1, C, H, W) float in [0, 1], captions)``.

    ``captions[i][v]`` names tile ``(i, v)``'s label(s) with weights; column 0 is the original.
    MixUp/CutMix need ``labels`` (int64 ``(n,)``) and mix each view column as one batch.

    Raises:
        ValueError: mixing asked for unlabelled images.
    """
    from reprlearn.augment.mixing import BatchMixing, label_weights

    n = len(images)
    names = label_names or [
        str(i) for i in range(int(labels.max()) + 1 if labels is not None else 0)
    ]
    if aug.mixes and labels is None:
        raise ValueError(
            "MixUp/CutMix previews need labelled images (the captions are label weights)"
        )
    own = [
        names[int(y)] if labels is not None else ""
        for y in (labels if labels is not None else [None] * n)
    ]
    cols, caps = [images.float() / 255], [[c] for c in own]
    mixing = BatchMixing(aug, max(2, len(names))) if aug.mixes else None
    for v in range(1, views + 1):
        x = augment_images(images, aug, seed * 1000 + v).float() / 255
        if mixing is not None:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(seed * 1000 + v)
                x, soft = mixing(x, labels)
            for i, pairs in enumerate(label_weights(soft)):
                caps[i].append(" / ".join(f"{names[c]} {w:.2f}" for c, w in pairs))
        else:
            for i in range(n):
                caps[i].append(own[i])
        cols.append(x)
    return torch.stack(cols, dim=1), caps


def save_captioned_grid(tiles: torch.Tensor, captions: list[list[str]], path: str | Path) -> Path:
    """Save ``tiles (rows, cols, C, H, W)`` as a PNG grid (:func:`save_grid`), each tile's
    caption written in its top-left corner on a dark band."""
    from PIL import Image, ImageDraw, ImageFont

    from reprlearn.training.image_grid import PADDING, preview_scale, save_grid

    rows, cols, _, h, w = tiles.shape
    scale = preview_scale(w, cols, min_tile=128)
    path = save_grid(tiles, path, scale=scale)
    img = Image.open(path).convert("RGB")
    draw = ImageDraw.Draw(img)
    font = ImageFont.load_default(size=max(10, min(16, scale * w // 9)))
    for r in range(rows):
        for c in range(cols):
            text = captions[r][c]
            if not text:
                continue
            x0, y0 = (PADDING + c * (w + PADDING)) * scale, (PADDING + r * (h + PADDING)) * scale
            lines = text.replace(" / ", "\n")
            box = draw.multiline_textbbox((x0 + 2, y0 + 1), lines, font=font)
            draw.rectangle((x0, y0, box[2] + 2, box[3] + 2), fill=(0, 0, 0))
            draw.multiline_text((x0 + 2, y0 + 1), lines, font=font, fill=(255, 255, 0))
    tmp = path.with_name(f".{path.name}.tmp")
    img.save(tmp, format="PNG")
    tmp.replace(path)
    return path
