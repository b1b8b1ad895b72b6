"""``shapes``: procedurally generated images whose generative factors are known.

Each image shows one filled shape on a black background. The factors are drawn
independently and uniformly, so a representation can be scored against them (linear
probes per factor, DCI, MIG: :mod:`reprlearn.evaluation.factors`):

=========== ===================================================== ==================
factor      values                                                column
=========== ===================================================== ==================
shape       square, circle, triangle                              ``shape`` (+ ``label``)
color       6 fully saturated hues (red, yellow, green, cyan,     ``color``
            blue, magenta)
size        3 scales (circumradius 12%, 18%, 24% of the side)      ``size``
x, y        5 positions each, on a grid that keeps the shape in    ``x``, ``y``
            the image
rotation    4 angles 0, 15, 30, 45 degrees (only with              ``rotation``
            ``rotation=True``; otherwise every shape is upright;
            circles look the same at every angle)
=========== ===================================================== ==================

The design follows dSprites (Matthey et al. 2017, https://github.com/deepmind/dsprites-dataset)
and 3D Shapes (Burgess & Kim 2018), small enough to generate on the fly: the masks are
computed with vectorised numpy (no per-image drawing), 10,000 images in about a second.
"""

from __future__ import annotations

import colorsys

import datasets
import numpy as np

SHAPES = ("square", "circle", "triangle")
COLORS = ("red", "yellow", "green", "cyan", "blue", "magenta")
SIZES = (0.12, 0.18, 0.24)  # circumradius as a fraction of the image side
N_POSITIONS = 5
ROTATIONS = (0.0, 15.0, 30.0, 45.0)  # degrees: distinct for squares (90-fold) and triangles
FACTORS = ("shape", "color", "size", "x", "y")
"""Factor columns of :func:`make_shapes` (``rotation`` is added with ``rotation=True``)."""

_CHUNK = 2048


def factor_names(rotation: bool = False) -> tuple[str, ...]:
    """The factor columns of ``make_shapes(rotation=rotation)``."""
    return (*FACTORS, "rotation") if rotation else FACTORS


def sample_factors(n: int, seed: int = 0, rotation: bool = False) -> dict[str, np.ndarray]:
    """Draw ``n`` independent factor combinations; each value int64 ``(n,)`` of class indices."""
    rng = np.random.default_rng(seed)
    sizes = {"shape": len(SHAPES), "color": len(COLORS), "size": len(SIZES)}
    sizes |= {"x": N_POSITIONS, "y": N_POSITIONS}
    if rotation:
        sizes["rotation"] = len(ROTATIONS)
    # one (n, k) draw, row by row: the first rows of a larger draw equal a smaller draw
    draws = rng.integers(0, list(sizes.values()), size=(n, len(sizes)), dtype=np.int64)
    return {k: np.ascontiguousarray(draws[:, j]) for j, k in enumerate(sizes)}


def render_shapes(factors: dict[str, np.ndarray], size: int = 32) -> np.ndarray:
    """Draw the images of given factor indices; uint8 ``(n, size, size, 3)``.

    Args:
        factors: int arrays ``(n,)`` named as :data:`FACTORS` (+ optional ``rotation``).
        size: image side in pixels (>= 8).

    Raises:
        ValueError: ``size`` < 8.
    """
    if size < 8:
        raise ValueError(f"shapes images need size >= 8 pixels, got {size}")
    n = len(factors["shape"])
    out = np.zeros((n, size, size, 3), dtype=np.uint8)
    palette = np.array([colorsys.hsv_to_rgb(i / len(COLORS), 1.0, 1.0) for i in range(len(COLORS))])
    palette = np.round(palette * 255).astype(np.uint8)
    for start in range(0, n, _CHUNK):
        part = {k: v[start : start + _CHUNK] for k, v in factors.items()}
        mask = _masks(part, size)
        out[start : start + _CHUNK] = mask[..., None] * palette[part["color"]][:, None, None, :]
    return out


def _masks(f: dict[str, np.ndarray], size: int) -> np.ndarray:
    """Boolean masks ``(n, size, size)``: inside-tests of each shape in its own frame."""
    radius = np.asarray(SIZES)[f["size"]] * size  # (n,) pixels
    margin = max(SIZES) * size + 0.5
    grid = np.linspace(margin, size - margin, N_POSITIONS)
    cx, cy = grid[f["x"]], grid[f["y"]]
    theta = np.deg2rad(np.asarray(ROTATIONS)[f["rotation"]]) if "rotation" in f else 0.0 * cx
    coords = np.arange(size) + 0.5  # pixel centres
    dx = (coords[None, None, :] - cx[:, None, None]) / radius[:, None, None]
    dy = (coords[None, :, None] - cy[:, None, None]) / radius[:, None, None]
    c, s = np.cos(theta)[:, None, None], np.sin(theta)[:, None, None]
    u, v = c * dx + s * dy, -s * dx + c * dy  # rotate the frame by -theta
    square = np.maximum(np.abs(u), np.abs(v)) <= np.sqrt(0.5)  # circumradius 1
    circle = u * u + v * v <= 1.0
    # Equilateral triangle of circumradius 1 pointing up (image y grows downward):
    # inside iff the projection on each edge normal is <= 1/2 (the inradius).
    angles = np.deg2rad([90.0, 210.0, 330.0])  # edge normals, opposite the vertices
    triangle = np.ones_like(circle)
    for a in angles:
        triangle &= np.cos(a) * u + np.sin(a) * v <= 0.5
    kind = f["shape"][:, None, None]
    return np.where(kind == 0, square, np.where(kind == 1, circle, triangle))


def make_shapes(
    n: int = 10_000, size: int = 32, seed: int = 0, rotation: bool = False
) -> datasets.Dataset:
    """Generate the ``shapes`` dataset: ``n`` RGB images of ``size`` x ``size`` pixels.

    Deterministic: the same ``(n, size, seed, rotation)`` gives the same rows, and the
    first ``k`` rows of a larger draw with the same seed equal a draw of ``k``.

    Args:
        n: number of images (default 10,000).
        size: image side in pixels (default 32; >= 8).
        seed: random seed of the factor draws (default 0).
        rotation: add the ``rotation`` factor (4 angles); default upright shapes.

    Returns:
        A Dataset with columns ``image`` (``datasets.Image``, RGB), ``label``
        (``ClassLabel`` of the shape, for probes), and one ``ClassLabel`` column per
        factor: ``shape``, ``color``, ``size``, ``x``, ``y`` (+ ``rotation``); see
        :func:`factor_names`.

    Raises:
        ValueError: ``n`` < 1 or ``size`` < 8.
    """
    if n < 1:
        raise ValueError(f"shapes needs n >= 1 images, got {n}")
    factors = sample_factors(n, seed, rotation)
    pixels = render_shapes(factors, size)
    names = {
        "shape": list(SHAPES),
        "color": list(COLORS),
        "size": ["small", "medium", "large"],
        "x": [f"x{i}" for i in range(N_POSITIONS)],
        "y": [f"y{i}" for i in range(N_POSITIONS)],
        "rotation": [f"{a:g}deg" for a in ROTATIONS],
    }
    features = {"image": datasets.Image(), "label": datasets.ClassLabel(names=list(SHAPES))}
    features |= {k: datasets.ClassLabel(names=names[k]) for k in factors}
    columns = {"image": list(pixels), "label": factors["shape"]} | factors
    ds = datasets.Dataset.from_dict(columns, features=datasets.Features(features))
    ds.info.description = "shapes factors: " + ", ".join(factors)
    return ds


def has_object_masks(ds: datasets.Dataset) -> bool:
    """True when ``ds`` carries the ``shapes`` factor columns :func:`shape_masks` reads."""
    return set(FACTORS) <= set(ds.column_names)


def shape_masks(
    source: datasets.Dataset | dict[str, np.ndarray], size: int | None = None
) -> np.ndarray:
    """The object mask of each ``shapes`` image: bool ``(n, size, size)``, True on the shape.

    Args:
        source: a Dataset from :func:`make_shapes` (its factor columns are read) or a
            dict of factor index arrays as :func:`sample_factors` returns.
        size: image side in pixels; default: the side of the Dataset's first image
            (required with a dict).

    Raises:
        ValueError: ``source`` lacks a factor column (not a ``shapes`` dataset), or no size.

    Used by ``explain --inside-mask`` (the energy-based pointing game, Wang et al. 2020).
    """
    if isinstance(source, datasets.Dataset):
        missing = [k for k in FACTORS if k not in source.column_names]
        if missing:
            raise ValueError(
                f"object masks need the shapes factor columns; missing {', '.join(missing)} "
                "(only the `shapes` dataset knows where its objects are)"
            )
        names = [*FACTORS, *(["rotation"] if "rotation" in source.column_names else [])]
        factors = {k: np.asarray(source[k], dtype=np.int64) for k in names}
        if size is None:
            size = int(source[0]["image"].size[0])
    else:
        factors = {k: np.asarray(v, dtype=np.int64) for k, v in source.items()}
    if size is None:
        raise ValueError("shape_masks needs size= with a dict of factors")
    parts = [_masks({k: v[s : s + _CHUNK] for k, v in factors.items()}, size)
             for s in range(0, len(factors["shape"]), _CHUNK)]  # fmt: skip
    return np.concatenate(parts) if parts else np.zeros((0, size, size), bool)
