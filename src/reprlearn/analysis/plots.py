"""PNG figures of an embedding space: a cosine-similarity heatmap and a 2-D map.

Drawn with matplotlib's object API (``Figure`` + Agg canvas), so no pyplot state and no
display are needed. 150 dpi, saved with a tight bounding box so no label is clipped at
the figure's edges. Both functions save to ``path`` and return it. The confusion matrix,
its most confused pairs and per-class accuracy live in :mod:`reprlearn.analysis.confusion`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib import colors as mcolors
from matplotlib import patheffects
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.offsetbox import AnnotationBbox, OffsetImage
from PIL import Image

DPI = 150
TEXT_CHARS = 30
THUMB_PX = 48
LEGEND_MAX = 20  # classes with a legend; above, names of a few centroids only
NAMED_MAX = 12  # most class names written on a map with more than LEGEND_MAX classes


def shorten(text: str, width: int = TEXT_CHARS) -> str:
    """``text`` on one line, cut to ``width`` characters with an ellipsis."""
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[: width - 1] + "\u2026"


def similarity_heatmap(
    sim: np.ndarray,
    labels: Sequence[str],
    path: str | Path,
    *,
    thumbnails: Sequence[Image.Image] | None = None,
    texts: Sequence[str] | None = None,
    title: str = "Cosine similarity",
) -> Path:
    """Draw the ``(n, n)`` similarity matrix ``sim`` with labelled rows and columns.

    The colormap is diverging (blue-white-red), centred on the mean off-diagonal cosine,
    so red cells are pairs more alike than a typical pair even in an anisotropic space
    where every cosine is positive; the colorbar shows the real cosines. Values are
    written in the cells when ``n <= 20``; lines separate runs of equal labels.

    Args:
        sim: cosine similarities ``(n, n)``.
        labels: a label (class name or item id) per row ``(n,)``.
        path: where to write the PNG.
        thumbnails: images ``(n,)`` drawn beside the row and column labels.
        texts: texts ``(n,)``; the first ~30 characters follow each row's label.
        title: figure title.

    Returns:
        ``path`` as a :class:`~pathlib.Path`.
    """
    n = len(sim)
    names = [str(lab) for lab in labels]
    row_names = (
        [f"{lab}  {shorten(t)}" for lab, t in zip(names, texts, strict=True)] if texts else names
    )
    cell = 0.42 if n <= 20 else max(0.12, 8.4 / n)
    side = cell * n
    label_room = (2.6 if texts else 0.6) + (0.5 if thumbnails else 0)
    bottom = 0.8 + (0.55 if thumbnails else 0) + (0.2 if n > 20 else 0)
    fig = Figure(figsize=(side + label_room + 1.6, bottom + side + 0.45))
    ax = fig.add_axes(_heatmap_rect(fig, side, label_room, bottom))
    image = ax.imshow(sim, cmap="RdBu_r", norm=_centred_norm(sim), interpolation="nearest")
    ax.set_title(title, fontsize=11, loc="left", pad=8)
    ax.set_xticks(range(n), names, rotation=90, fontsize=_tick_font(n))
    ax.set_yticks(range(n), row_names, fontsize=_tick_font(n))
    ax.tick_params(length=0)
    _group_lines(ax, names)
    if n <= 20:
        _write_values(ax, sim, image)
    if thumbnails:
        _draw_thumbnails(ax, thumbnails, cell)
    cax = fig.add_axes(_colorbar_rect(fig, ax))
    bar = fig.colorbar(image, cax=cax)
    bar.set_label("cosine similarity (white = mean of all pairs shown)", fontsize=8)
    bar.ax.tick_params(labelsize=7)
    return _save(fig, path)


def _save(fig: Figure, path: str | Path) -> Path:
    """Save with a tight bounding box: every tick label and title inside the PNG."""
    path = Path(path)
    fig.savefig(path, dpi=DPI, bbox_inches="tight", pad_inches=0.15)
    return path


def projection_scatter(
    points2d: np.ndarray,
    y: np.ndarray | None,
    label_names: Sequence[str] | None,
    path: str | Path,
    *,
    title: str = "2-D map",
    axis_labels: tuple[str, str] = ("1", "2"),
    seed: int = 0,
) -> Path:
    """Scatter ``points2d`` ``(m, 2)`` coloured by label and save it to ``path``.

    See :func:`projection_figure` for what is drawn. Returns ``path`` as a Path.
    """
    fig = projection_figure(
        points2d, y, label_names, title=title, axis_labels=axis_labels, seed=seed
    )
    return _save(fig, path)


def projection_figure(
    points2d: np.ndarray,
    y: np.ndarray | None,
    label_names: Sequence[str] | None,
    *,
    title: str = "2-D map",
    axis_labels: tuple[str, str] = ("1", "2"),
    seed: int = 0,
) -> Figure:
    """The 2-D map: ``points2d`` ``(m, 2)`` coloured by label, readable at any class count.

    Points are drawn in a seeded random order (no class hides the others). Up to
    :data:`LEGEND_MAX` classes get a legend and their names at their median points; above,
    a continuous colour map and the names of at most :data:`NAMED_MAX` classes (the
    largest) at their medians. A name that would overlap an earlier one or leave the axes
    is not written, so no text ever overlaps (the full coordinates are in ``map.csv``).
    Without labels all points share one colour.

    Args:
        points2d: coordinates ``(m, 2)``.
        y: integer labels ``(m,)`` or None.
        label_names: class names, index = label id (default: the label ids).
        title, axis_labels: figure title and axis names.
        seed: seed of the drawing order.

    Returns:
        the matplotlib :class:`~matplotlib.figure.Figure` (Agg canvas attached).
    """
    m = len(points2d)
    fig = Figure(figsize=(7.5, 6.0))
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.09, 0.09, 0.66, 0.82))
    order = np.random.default_rng(seed).permutation(m)
    size = float(np.clip(12000 / max(m, 1), 2, 40))
    if y is None:
        ax.scatter(*points2d[order].T, s=size, c="#3b6ea8", alpha=0.6, linewidths=0)
    ax.set_title(title, fontsize=11, loc="left")
    ax.set_xlabel(axis_labels[0], fontsize=9)
    ax.set_ylabel(axis_labels[1], fontsize=9)
    ax.tick_params(labelsize=7)
    ax.grid(alpha=0.2)
    if y is not None:
        _scatter_classes(ax, fig, points2d, np.asarray(y), label_names, order, size)
    return fig


def _scatter_classes(ax, fig, points, y, label_names, order, size) -> None:
    classes, counts = np.unique(y, return_counts=True)
    names = [str(label_names[c]) if label_names is not None else str(c) for c in classes]
    palette = _palette(int(classes.max()) + 1)
    ax.scatter(*points[order].T, s=size, c=palette[y[order]], alpha=0.7, linewidths=0)
    many = len(classes) > LEGEND_MAX
    ranked = np.argsort(-counts, kind="stable") if many else np.arange(len(classes))
    written = _class_names(ax, fig, points, y, classes[ranked], [names[i] for i in ranked],
                           palette, NAMED_MAX if many else len(classes))  # fmt: skip
    if not many:
        handles = [ax.scatter([], [], s=30, color=palette[c]) for c in classes]
        fig.legend(handles, names, loc="center left", bbox_to_anchor=(0.77, 0.5), fontsize=8,
                   frameon=False, title="label", title_fontsize=9)  # fmt: skip
    else:
        fig.text(0.77, 0.5, f"{len(classes)} classes: colours run\nthrough a continuous map;\n"
                 f"names of {written} of the\nlargest at their centres\n(all points: map.csv)",
                 fontsize=8, va="center", color="0.3")  # fmt: skip


def _class_names(ax, fig, points, y, classes, names, palette, limit: int) -> int:
    """Write up to ``limit`` class names at their median points, skipping any that would
    overlap a written one or leave the axes; returns how many were written."""
    ax.set_xlim(ax.get_xlim())  # settle the autoscaled limits before measuring text
    ax.set_ylim(ax.get_ylim())
    renderer = fig.canvas.get_renderer()
    inside = ax.get_window_extent(renderer)
    placed: list = []
    for c, name in zip(classes, names, strict=True):
        if len(placed) >= limit:
            break
        text = ax.text(*np.median(points[y == c], axis=0), shorten(name, 24), fontsize=8,
                       weight="bold", ha="center", va="center", color=palette[c] * 0.7,
                       path_effects=[patheffects.withStroke(linewidth=2.5, foreground="white")])  # fmt: skip
        box = text.get_window_extent(renderer).expanded(1.05, 1.15)
        fits = (box.x0 >= inside.x0 and box.x1 <= inside.x1 and box.y0 >= inside.y0
                and box.y1 <= inside.y1)  # fmt: skip
        if not fits or any(box.overlaps(other) for other in placed):
            text.remove()
            continue
        placed.append(box)
    return len(placed)


def _palette(k: int) -> np.ndarray:
    """RGB ``(k, 3)``: tab10 / tab20 for up to 10 / 20 classes, else a continuous map."""
    from matplotlib import colormaps

    if k <= 10:
        return np.asarray(colormaps["tab10"].colors)[:k]
    if k <= 20:
        return np.asarray(colormaps["tab20"].colors)[:k]
    return colormaps["turbo"](np.linspace(0.05, 0.95, k))[:, :3]


def _centred_norm(sim: np.ndarray) -> mcolors.Normalize:
    n = len(sim)
    off = sim[~np.eye(n, dtype=bool)] if n > 1 else sim.ravel()
    # The range comes from the off-diagonal cells: the diagonal (1.0) saturates.
    lo, hi, centre = float(off.min()), float(off.max()), float(off.mean())
    if not lo < centre < hi:
        return mcolors.Normalize(vmin=min(lo, -1.0), vmax=max(hi, 1.0))
    return mcolors.TwoSlopeNorm(vcenter=centre, vmin=lo, vmax=hi)


def _tick_font(n: int) -> float:
    return 8.0 if n <= 20 else float(np.clip(160 / n, 3, 8))


def _heatmap_rect(fig: Figure, side: float, label_room: float, bottom: float) -> tuple:
    w, h = fig.get_size_inches()
    left = label_room + 0.1
    return (left / w, bottom / h, side / w, side / h)


def _colorbar_rect(fig: Figure, ax) -> tuple:
    x0, y0, width, height = ax.get_position().bounds
    w = fig.get_size_inches()[0]
    return (x0 + width + 0.15 / w, y0, 0.15 / w, height)


def _group_lines(ax, names: list[str]) -> None:
    for i in range(1, len(names)):
        if names[i] != names[i - 1]:
            ax.axhline(i - 0.5, color="0.25", linewidth=0.6)
            ax.axvline(i - 0.5, color="0.25", linewidth=0.6)


def _write_values(ax, sim: np.ndarray, image) -> None:
    n = len(sim)
    fontsize = 6.5 if n > 12 else 8
    for i in range(n):
        for j in range(n):
            rgba = image.cmap(image.norm(sim[i, j]))
            dark = 0.299 * rgba[0] + 0.587 * rgba[1] + 0.114 * rgba[2] < 0.5
            text = f"{sim[i, j] + 0.0:.2f}".replace("0.", ".", 1).replace("-.00", ".00")
            ax.text(
                j,
                i,
                text,
                ha="center",
                va="center",
                fontsize=fontsize,
                color="white" if dark else "0.15",
            )


def _draw_thumbnails(ax, thumbnails: Sequence[Image.Image], cell: float) -> None:
    """Thumbnails left of each row and below each column, about one cell in size."""
    zoom = cell * 72 * 0.92 / THUMB_PX
    pad_pts = cell * 72 + 4
    for i, img in enumerate(thumbnails):
        arr, cmap = _thumb_array(img)
        for xy, coords, box, align in (
            ((0, i), ("axes fraction", "data"), (-2, 0), (1, 0.5)),
            ((i, 0), ("data", "axes fraction"), (0, -2), (0.5, 1)),
        ):
            ab = AnnotationBbox(
                OffsetImage(arr, zoom=zoom, cmap=cmap),
                xy,
                xycoords=coords,
                xybox=box,
                boxcoords="offset points",
                box_alignment=align,
                frameon=False,
                pad=0,
            )
            ax.add_artist(ab)
    ax.tick_params(axis="y", pad=pad_pts)
    ax.tick_params(axis="x", pad=pad_pts)


def _thumb_array(img: Image.Image) -> tuple[np.ndarray, str | None]:
    gray = img.mode in ("L", "1", "I", "I;16", "F")
    img = img.convert("L" if gray else "RGB")
    img = img.resize(
        (THUMB_PX, THUMB_PX),
        Image.Resampling.NEAREST if max(img.size) < THUMB_PX else Image.Resampling.LANCZOS,
    )
    return np.asarray(img), ("gray" if gray else None)
