"""Shortcut features planted on purpose, to check that a model looks at the object.

``corner-marker``: a small square painted in one image corner. In the training data its
corner and colour are tied to the label (a spurious feature that predicts the class
perfectly); in the test data they are drawn at random, independent of the label. A model
that learned the marker instead of the object loses accuracy on the test data, and its
class activation maps point at the corner instead of the object (``explain --inside-mask``).

The setting is the classic shortcut-learning test (Geirhos et al. 2020, "Shortcut learning
in deep neural networks"; the chest X-ray markers of Zech et al. 2018).
"""

from __future__ import annotations

import datasets
import numpy as np
from PIL import Image

SHORTCUTS = ("none", "corner-marker")
MARKER_COLORS = (
    (255, 255, 255),
    (255, 0, 0),
    (0, 255, 0),
    (0, 0, 255),
    (255, 255, 0),
    (255, 0, 255),
)
"""Marker colours; with 4 corners they give 24 distinct (corner, colour) markers."""
N_CORNERS = 4


def marker_side(size: int) -> int:
    """Marker side in pixels for an image side ``size``: about 7% of it, at least 2 pixels.

    The largest corner square that stays outside every ``shapes`` object (from 16 px up:
    an upright square of circumradius 24% at the corner position leaves
    ``0.0703 * size + 0.5`` pixels free along both axes), so the object mask is untouched.
    """
    return max(2, int(0.07 * size + 0.99))


def marker_codes(labels: np.ndarray, tied: np.ndarray, seed: int = 0) -> np.ndarray:
    """The marker of each row as an int code ``corner + 4 * colour``, ``(n,)``.

    Tied rows get the code of their label (``label mod 24``: one marker per class up to
    24 classes); the other rows get a uniformly random code from the same set of codes,
    independent of the label.
    """
    labels = np.asarray(labels, dtype=np.int64)
    n_codes = min(N_CORNERS * len(MARKER_COLORS), max(int(labels.max(initial=0)) + 1, 2))
    rng = np.random.default_rng(seed)
    random = rng.integers(0, n_codes, size=len(labels))
    return np.where(np.asarray(tied, bool), labels % (N_CORNERS * len(MARKER_COLORS)), random)


def paint_marker(image: Image.Image, code: int) -> Image.Image:
    """A copy of ``image`` (RGB) with the marker ``code`` painted in its corner."""
    pixels = np.array(image.convert("RGB"))
    h, w = pixels.shape[:2]
    side = marker_side(min(h, w))
    corner, colour = code % N_CORNERS, code // N_CORNERS
    rows = slice(0, side) if corner in (0, 1) else slice(h - side, h)
    cols = slice(0, side) if corner in (0, 2) else slice(w - side, w)
    pixels[rows, cols] = MARKER_COLORS[colour % len(MARKER_COLORS)]
    return Image.fromarray(pixels)


def add_shortcut(
    ds: datasets.Dataset,
    kind: str = "corner-marker",
    *,
    tied_rows: np.ndarray | None = None,
    seed: int = 0,
    image_column: str = "image",
) -> datasets.Dataset:
    """Plant the shortcut ``kind`` in an image dataset with a ``label`` column.

    Args:
        ds: images (``image_column``) and integer ``label``.
        kind: ``corner-marker`` (``none`` returns ``ds`` unchanged).
        tied_rows: row indices whose marker is tied to the label (the training data);
            every other row gets a random marker. Default: no row is tied (test data).
        seed: seed of the random markers.

    Returns:
        A new Dataset with the marker painted in and a ``shortcut_code`` int column
        (``corner + 4 * colour``).

    Raises:
        ValueError: an unknown ``kind``, or a dataset without images or labels.
    """
    if kind not in SHORTCUTS:
        raise ValueError(f"unknown --shortcut {kind!r}; choose one of {', '.join(SHORTCUTS)}")
    if kind == "none":
        return ds
    if image_column not in ds.column_names or "label" not in ds.column_names:
        raise ValueError(
            f"--shortcut {kind} needs an image dataset with labels; this one has columns "
            f"{', '.join(ds.column_names)}"
        )
    tied = np.zeros(ds.num_rows, bool)
    if tied_rows is not None:
        tied[np.asarray(tied_rows, dtype=np.int64)] = True
    codes = marker_codes(np.asarray(ds["label"]), tied, seed)

    def paint(batch: dict, indices: list[int]) -> dict:
        images = batch[image_column]
        batch[image_column] = [
            paint_marker(im, int(codes[i])) for im, i in zip(images, indices, strict=True)
        ]
        batch["shortcut_code"] = [int(codes[i]) for i in indices]
        return batch

    features = ds.features.copy()
    features["shortcut_code"] = datasets.Value("int64")
    quiet = datasets.utils.are_progress_bars_disabled()
    datasets.utils.disable_progress_bars()
    try:
        return ds.map(paint, with_indices=True, batched=True, features=features)
    finally:
        if not quiet:
            datasets.utils.enable_progress_bars()
