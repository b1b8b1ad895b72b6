"""Decoding and validating single items (an image's bytes, a text) with clear failures."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import datasets
from PIL import Image


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
        return item
    if isinstance(item, dict):
        if item.get("bytes"):
            img = Image.open(io.BytesIO(item["bytes"]))
        elif item.get("path"):
            img = Image.open(item["path"])
        else:
            raise ValueError("missing image (no bytes and no path)")
        img.load()  # decode now: a truncated file fails here, not later
        return img
    raise ValueError(f"expected an image, got {type(item).__name__}")


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
