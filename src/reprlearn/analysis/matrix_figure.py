"""The parts of a labelled matrix figure (cosine-similarity heatmap, confusion matrix),
drawn fast with matplotlib's object API.

matplotlib 3.11 renders a Text glyph by glyph from Python (~50 us a glyph) and resamples
an ``imshow`` image to the axes' pixels, so here the row and column labels and the cell
values are glyph outlines in a few collections (:mod:`reprlearn.analysis.glyph_text`,
drawn verbatim, never parsed as mathtext) and the cells a quad mesh: a 54 x 54 confusion
matrix drew in 0.65 s with ``imshow``, tick labels and ``bbox_inches="tight"``.
Coordinates: cell ``(i, j)`` (row ``i``, column ``j``) is centred on ``(j, i)`` with row
0 at the top, as ``imshow`` places it.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np
from matplotlib import colors as mcolors
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg
from matplotlib.cm import ScalarMappable
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.transforms import ScaledTranslation

from reprlearn.analysis.glyph_text import text_collection

DPI = 150
PAD = 0.2  # inches of white kept around the measured labels before cropping
TITLE_ROOM = 0.5  # inches above the matrix for the title
COLORBAR_ROOM = 1.4  # inches right of the matrix for the colour bar, its ticks and label


def widest(texts: Sequence[str], fontsize: float) -> float:
    """Width in inches of the widest of ``texts`` at ``fontsize`` points (Agg's metrics;
    0.0 for none). :func:`reprlearn.analysis.glyph_text.text_box` measures the same width
    but in points, which rounds differently in the last bit (and moves pixels)."""
    renderer = _metrics_renderer()
    prop = FontProperties(size=fontsize)
    widths = [renderer.get_text_width_height_descent(t, prop, ismath=False)[0] for t in set(texts)]
    return max(widths, default=0.0) / DPI


@functools.lru_cache(maxsize=1)
def _metrics_renderer() -> RendererAgg:
    return RendererAgg(1, 1, DPI)


def matrix_axes(left: float, bottom: float, side: float) -> tuple[Figure, Axes]:
    """A figure (``DPI``, Agg canvas attached) holding a ``side`` x ``side`` inch axes
    without ticks at ``(left, bottom)`` inches from its bottom left, with
    :data:`TITLE_ROOM` above the axes and :data:`COLORBAR_ROOM` right of it."""
    fig = Figure(figsize=(left + side + COLORBAR_ROOM, bottom + side + TITLE_ROOM), dpi=DPI)
    FigureCanvasAgg(fig)
    w, h = fig.get_size_inches()
    ax = fig.add_axes((left / w, bottom / h, side / w, side / h))
    ax.set_xticks([])
    ax.set_yticks([])
    return fig, ax


def colour_bar(
    fig: Figure, colours: ScalarMappable, left: float, bottom: float, side: float, label: str
) -> None:
    """The colour bar of ``colours`` right of the matrix of :func:`matrix_axes` (same
    ``left, bottom, side`` inches), as tall as it, labelled ``label``."""
    w, h = fig.get_size_inches()
    cax = fig.add_axes(((left + side + 0.15) / w, bottom / h, 0.15 / w, side / h))
    bar = fig.colorbar(colours, cax=cax)
    bar.set_label(label, fontsize=8)
    bar.ax.tick_params(labelsize=7)


def cells(ax, rgba: np.ndarray) -> None:
    """The ``(n, n, 4)`` colours (uint8) as square cells: a quad mesh, ~10x faster to draw
    than an image resampled to the axes' pixels; sets the limits and equal aspect."""
    n = len(rgba)
    edges = np.arange(n + 1) - 0.5
    mesh = ax.pcolormesh(edges, edges, np.zeros((n, n)), shading="flat")
    mesh.set_array(None)
    mesh.set_facecolor(rgba.reshape(-1, 4) / 255)
    ax.set_xlim(-0.5, n - 0.5)
    ax.set_ylim(n - 0.5, -0.5)
    ax.set_aspect("equal")


def axis_labels(ax, fig: Figure, names, row_names, fontsize: float, pad: float) -> None:
    """Row labels ``row_names`` left of the matrix, column labels ``names`` rotated below
    it, ``pad`` inches away, as ``set_yticks``/``set_xticks`` (``rotation=90``) place
    them: two collections of glyph outlines."""
    n = len(names)
    left = ax.get_yaxis_transform() + ScaledTranslation(-pad, 0, fig.dpi_scale_trans)
    below = ax.get_xaxis_transform() + ScaledTranslation(0, -pad, fig.dpi_scale_trans)
    rows = text_collection(fig, list(row_names), np.column_stack([np.zeros(n), np.arange(n)]),
                           left, fontsize, ha="right", va="center_baseline")  # fmt: skip
    # rotated 90 degrees: the end of each name at the top, centred under its column
    columns = text_collection(fig, list(names), np.column_stack([np.arange(n), np.zeros(n)]),
                              below, fontsize, rotation=90, ha="right", va="center")  # fmt: skip
    for collection in (rows, columns):
        collection.set_clip_on(False)
        ax.add_collection(collection, autolim=False)


def cell_values(ax, texts: Sequence[str], rows, cols, rgba: np.ndarray, fontsize: float) -> None:
    """``texts[m]`` centred in cell ``(rows[m], cols[m])``, white on dark cells and dark
    grey on light ones (``rgba`` ``(n, n, 4)`` uint8, luminance below half): one
    collection, each string's outline kept for the process (400 Text artists cost
    ~0.2 s to draw, this ~0.02 s)."""
    rows, cols = np.asarray(rows), np.asarray(cols)
    if not len(rows):
        return
    dark = rgba[rows, cols, :3] @ np.array([0.299, 0.587, 0.114]) < 0.5 * 255
    colours = np.where(dark[:, None], mcolors.to_rgba_array("white"), mcolors.to_rgba_array("0.15"))
    ax.add_collection(text_collection(ax.figure, list(texts), np.column_stack([cols, rows]),
                                      ax.transData, fontsize, facecolors=colours, cache=True,
                                      ha="center", va="center"), autolim=False)  # fmt: skip


__all__ = [
    "COLORBAR_ROOM",
    "DPI",
    "PAD",
    "TITLE_ROOM",
    "axis_labels",
    "cell_values",
    "cells",
    "colour_bar",
    "matrix_axes",
    "widest",
]
