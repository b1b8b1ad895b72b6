"""The items behind store ids: texts, or images with their source paths, reloaded from
the source the store's manifest records (as ``inspect`` does)."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from reprlearn.store import EmbeddingStore


@dataclass
class Items:
    """Items of some store ids.

    Attributes:
        modality: ``"text"``, ``"image"`` or None when the source could not be reloaded.
        text: id -> the text, or the image's path in the source ('' when unknown).
        image: id -> PIL image (images only).
        notes: why items are missing, when they are.
    """

    modality: str | None
    text: dict[int, str] = field(default_factory=dict)
    image: dict[int, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def load_source(store: EmbeddingStore):
    """The store's source as a ``datasets.Dataset``, or ``(None, note)`` when it cannot
    be reloaded (moved file, offline hub id, changed row count). Kept for the process
    (keyed by the manifest's source record), so repeated searches reload nothing."""
    return _load_source(json.dumps(store.manifest.get("source") or {}, sort_keys=True))


@functools.lru_cache(maxsize=8)
def _load_source(source_json: str):
    from reprlearn.data import load_dataset

    source = json.loads(source_json)
    spec = source.get("spec")
    if not spec:
        return None, "the store records no source, so items are shown by id and label only"
    try:
        ds = load_dataset(**spec)
    except Exception as e:  # missing file, moved folder, offline hub id, ...
        return None, f"could not reload the source {spec} ({e}); items are shown by id only"
    expected = source.get("num_rows")
    if expected is not None and len(ds) != expected:
        return None, (
            f"the source {spec} now has {len(ds)} rows, not the {expected} embedded; "
            "it changed, so items are shown by id only"
        )
    return ds, None


def load_items(store: EmbeddingStore, ids: np.ndarray | list[int], images: bool = False) -> Items:
    """Texts (or image paths, and the PIL images when ``images``) of the store ``ids``."""
    ds, note = load_source(store)
    if ds is None:
        return Items(None, notes=[note])
    wanted = sorted({int(i) for i in ids if int(i) >= 0})
    selected = ds.select(wanted)
    if "text" in ds.column_names:
        return Items("text", dict(zip(wanted, selected["text"], strict=True)))
    import datasets

    raw = selected.cast_column("image", datasets.Image(decode=False))["image"]
    paths = {i: (r or {}).get("path") or "" for i, r in zip(wanted, raw, strict=True)}
    pictures = dict(zip(wanted, selected["image"], strict=True)) if images else {}
    return Items("image", paths, pictures)
