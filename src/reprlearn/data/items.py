"""Decoding and validating single items (an image's bytes, a text) with clear failures."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import datasets
import numpy as np
from PIL import Image

HIGH_BIT_DEPTH_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I", "F")


def open_image_file(path: str | Path) -> Image.Image:
    """A user-given image file (a query, a reference, one input) as a decoded RGB image.

    Raises:
        DataError: no such file, a folder, or not an image PIL can read (names the path
            and the fix).
    """
    from PIL import UnidentifiedImageError

    from reprlearn.errors import DataError

    try:
        with Image.open(path) as img:
            return img.convert("RGB")
    except (FileNotFoundError, UnidentifiedImageError, IsADirectoryError) as e:
        raise DataError(f"{path}: not a readable image file ({type(e).__name__}); pass a "
                        "PNG or JPEG") from None  # fmt: skip


@dataclass(frozen=True)
class BadItem:
    """An item that could not be decoded; ``reason`` says why."""

    reason: str


def decode_item(item: Any, modality: str) -> Any:
    """Raw dataset value -> PIL image (fully decoded) or non-empty string.

    Raises:
        ValueError: a missing value or an empty text.
        OSError / PIL.UnidentifiedImageError: a corrupt or truncated image.
    """
    if item is None:
        raise ValueError(f"missing {modality} (empty value)")
    if modality == "text":
        if not isinstance(item, str):
            raise ValueError(f"expected text, got {type(item).__name__}")
        if not item.strip():
            raise ValueError("empty text")
        return item
    if isinstance(item, Image.Image):
        item.load()
        return to_8bit(item)
    if isinstance(item, dict):
        if item.get("bytes"):
            img = Image.open(io.BytesIO(item["bytes"]))
        elif item.get("path"):
            img = Image.open(item["path"])
        else:
            raise ValueError("missing image (no bytes and no path)")
        img.load()  # decode now: a truncated file fails here, not later
        return to_8bit(img)
    raise ValueError(f"expected an image, got {type(item).__name__}")


def to_8bit(img: Image.Image) -> Image.Image:
    """A 16-bit (``I;16``), 32-bit integer (``I``) or float (``F``) grayscale image as an
    8-bit ``L`` image with the same relative brightness; other modes unchanged.

    PIL's own ``convert("L")`` clips these values at 255, which turns a 16-bit image of
    mean 0.5 (32768) white. Here 16-bit values are divided by 257 (65535 -> 255); an
    ``I``/``F`` image is read as 8-bit when its values fit in [0, 255], as 16-bit when
    they fit in [0, 65535], else rescaled from its own range; ``F`` in [0, 1] is scaled by
    255.
    """
    if img.mode not in HIGH_BIT_DEPTH_MODES:
        return img
    a = np.asarray(img, dtype=np.float64)
    lo, hi = (float(a.min()), float(a.max())) if a.size else (0.0, 0.0)
    if img.mode.startswith("I;16"):
        scale, offset = 1 / 257, 0.0
    elif img.mode == "F" and lo >= 0 and hi <= 1:
        scale, offset = 255.0, 0.0
    elif lo >= 0 and hi <= 255:
        scale, offset = 1.0, 0.0
    elif lo >= 0 and hi <= 65535:
        scale, offset = 1 / 257, 0.0
    else:
        scale, offset = 255 / max(hi - lo, 1e-12), lo
    out = np.clip(np.rint((a - offset) * scale), 0, 255).astype(np.uint8)
    return Image.fromarray(out)


def describe_row(ds: datasets.Dataset, row: int, spec: dict | None) -> str:
    """Where row ``row`` comes from: ``"row 12 (MR/rt-polarity.pos:13)"`` and the like."""
    if "origin" in ds.column_names:
        return f"row {row} ({ds[row]['origin']})"
    where = f"row {row}"
    if spec and spec.get("source"):
        where += f" of {spec['source']}"
    if "image" in ds.column_names:
        value = ds[row]["image"]
        if isinstance(value, dict) and value.get("path"):
            where += f" ({value['path']})"
    return where


def failure_reason(error: Exception) -> str:
    """A short reason for a failed item: the message, with the type for non-ValueErrors."""
    return str(error) if type(error) is ValueError else f"{type(error).__name__}: {error}"
