"""Image grids saved as PNG previews large enough to see (augment, generate, reconstruct,
traverse, the compare report's reconstructions).

Small images (8 px digits, 32 px CIFAR) are upscaled with nearest-neighbour (pixels stay
sharp squares, no blur invented) until each tile is at least :data:`MIN_TILE` px and the
whole grid at least :data:`MIN_WIDTH` px wide.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torchvision.utils import make_grid

from reprlearn.errors import ReprlearnError

MIN_TILE = 96  # px per image in a preview
MIN_WIDTH = 800  # px of the whole preview
PADDING = 1  # px between tiles, before upscaling


def preview_scale(
    tile: int, ncol: int, min_tile: int = MIN_TILE, min_width: int = MIN_WIDTH
) -> int:
    """Integer nearest-neighbour factor so tiles of ``tile`` px are >= ``min_tile`` px and a
    row of ``ncol`` tiles (with padding) is >= ``min_width`` px (1 when already large)."""
    row = ncol * (tile + PADDING) + PADDING
    return max(1, math.ceil(min_tile / tile), math.ceil(min_width / row))


def check_png_out(path: str | Path, option: str = "--out") -> Path:
    """``path`` as a PNG file to write (its folder is created when saving).

    Raises:
        ReprlearnError: ``path`` is an existing folder, or does not end in ``.png``.
    """
    path = Path(path)
    if path.is_dir():
        raise ReprlearnError(
            f"{option} {path} is a folder; give a file name such as {path / 'preview.png'}"
        )
    if path.suffix.lower() != ".png":
        raise ReprlearnError(
            f"{option} {path}: the preview is a PNG image; give a file name ending in .png, "
            f"such as {path.with_suffix('.png')}"
        )
    return path


def save_grid(
    images: torch.Tensor, path: str | Path, ncol: int | None = None, scale: int | None = None
) -> Path:
    """Save images ``(n, C, H, W)`` or ``(rows, cols, C, H, W)`` in [0, 1] as one PNG grid.

    Args:
        images: float images in [0, 1] (values outside are clipped).
        path: the PNG to write (folders created); written atomically (temp file + rename).
        ncol: images per row (default: ``cols`` for 5-d input, else ``ceil(sqrt(n))``).
        scale: nearest-neighbour upscaling (default :func:`preview_scale`: tiles >= 96 px,
            grid >= 800 px wide).

    Returns:
        ``path``.
    """
    if images.ndim == 5:
        ncol = images.shape[1]
        images = images.flatten(0, 1)
    ncol = ncol or int(np.ceil(np.sqrt(len(images))))
    grid = make_grid(images.float().clamp(0, 1), nrow=ncol, padding=PADDING, pad_value=0.5)
    array = (grid.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
    image = Image.fromarray(array.squeeze(-1) if array.shape[-1] == 1 else array)
    scale = scale or preview_scale(images.shape[-1], min(ncol, len(images)))
    image = image.resize((image.width * scale, image.height * scale), Image.NEAREST)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    image.save(tmp, format="PNG")
    tmp.replace(path)
    return path
