"""PNG figures of an embedding space: a cosine-similarity heatmap and a 2-D map.

Drawn with matplotlib's object API (``Figure`` + Agg canvas), so no pyplot state and no
display are needed. 150 dpi. Each figure is laid out in inches with room measured for
its labels, drawn once, and cropped to its ink plus a 0.15-inch margin (what
``bbox_inches="tight"`` gives, without drawing twice), so no label is clipped at the
figure's edges. Both functions save to ``path`` and return it. The confusion matrix,
its most confused pairs and per-class accuracy live in :mod:`reprlearn.analysis.confusion`.

Speed (issue 16, ``benchmarks/figures.py``): matplotlib 3.11 renders a Text glyph by
glyph from Python (~50 us a glyph), so labels, cell values, class names, tick labels and
titles are glyph outlines in a few collections (:mod:`reprlearn.analysis.glyph_text`;
the cell values kept per string), the heatmap's cells a quad mesh instead of a resampled
image, and the map's tiny markers octagons. Only the colour bar and the legend keep
matplotlib's Text. User text is drawn verbatim (never parsed as mathtext).
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib import colors as mcolors
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.cm import ScalarMappable
from matplotlib.figure import Figure
from matplotlib.path import Path as MplPath
from matplotlib.transforms import Bbox, ScaledTranslation
from PIL import Image

from reprlearn.analysis.glyph_text import (
    add_text,
    text_box,
    text_collection,
    text_path,
)
from reprlearn.analysis.glyph_text import (
    line_metrics as _line_metrics,
)
from reprlearn.analysis.matrix_figure import DPI, PAD, cell_values, colour_bar, matrix_axes
from reprlearn.analysis.matrix_figure import axis_labels as _axis_labels
from reprlearn.analysis.matrix_figure import cells as _cells
from reprlearn.analysis.matrix_figure import widest as _widest

TEXT_CHARS = 30
THUMB_PX = 48
LEGEND_MAX = 20  # classes with a legend; above, names of a few centroids only
NAMED_MAX = 12  # most class names written on a map with more than LEGEND_MAX classes
MAP_SIZE = (7.5, 6.0)  # inches, the map wider when legend names need it
MAP_AXES = (0.675, 4.95)  # inches: the map's left edge and width
MAP_SIDE_X = 5.775  # inches: the legend's (or the many-classes note's) left edge
PNG_COMPRESSION = 3  # zlib level: files a little larger than the default 6, drawn faster


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

    Cells are 0.42 inch up to 20 rows, smaller above (the matrix at most ~8.4 inches);
    the margins are measured from the labels, so the figure is drawn once.

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
    fig = similarity_figure(sim, labels, thumbnails=thumbnails, texts=texts, title=title)
    return save_cropped(fig, path)


def similarity_figure(
    sim: np.ndarray,
    labels: Sequence[str],
    *,
    thumbnails: Sequence[Image.Image] | None = None,
    texts: Sequence[str] | None = None,
    title: str = "Cosine similarity",
) -> Figure:
    """The heatmap of :func:`similarity_heatmap` as a Figure (Agg canvas attached), with
    white room around it that :func:`save_cropped` crops. Labels and the title are drawn
    verbatim (no mathtext); the row labels, column labels and values are three
    collections of glyph outlines (:mod:`reprlearn.analysis.glyph_text`), the cells a
    quad mesh."""
    n = len(sim)
    names = [str(lab) for lab in labels]
    row_names = (
        [f"{lab}  {shorten(t)}" for lab, t in zip(names, texts, strict=True)] if texts else names
    )
    cell = 0.42 if n <= 20 else max(0.12, 8.4 / n)
    side = cell * n
    font = _tick_font(n)
    pad = (cell * 72 + 4 if thumbnails else 3.5) / 72  # inches from the matrix to a label
    left = PAD + _widest(row_names, font) + pad
    bottom = PAD + _widest(names, font) + pad
    fig, ax = matrix_axes(left, bottom, side)
    colours = ScalarMappable(norm=_centred_norm(sim), cmap="RdBu_r")
    rgba = colours.to_rgba(sim, bytes=True)
    _cells(ax, rgba)
    fig.text(left, bottom + side + 8 / 72, title, fontsize=11, ha="left", va="baseline",
             transform=fig.dpi_scale_trans, parse_math=False)  # fmt: skip
    _axis_labels(ax, fig, names, row_names, font, pad)
    _group_lines(ax, names)
    if n <= 20:
        _write_values(ax, sim, rgba)
    if thumbnails:
        _draw_thumbnails(fig, thumbnails, (left, bottom, side), cell)
    colour_bar(fig, colours, left, bottom, side,
               "cosine similarity (white = mean of all pairs shown)")  # fmt: skip
    return fig


def save_cropped(fig: Figure, path: str | Path, *, rle: bool = False) -> Path:
    """Draw ``fig`` once and write it cropped to its ink plus a 0.15-inch white margin
    (what ``bbox_inches="tight"`` gives, without its second drawing). A figure whose
    ink touches its edge (a label larger than its room) is saved the slow, tight way.
    ``rle``: zlib's run-length strategy, faster and smaller for a dense scatter."""
    path = Path(path)
    fig.canvas.draw()
    rgba = np.asarray(fig.canvas.buffer_rgba())
    pixels = rgba[..., :3]
    ink = rgba.view(np.uint32)[..., 0] != 0xFFFFFFFF  # any pixel not opaque white
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    if not len(rows):
        rows = cols = np.array([0])
    h, w = ink.shape
    if rows[0] == 0 or cols[0] == 0 or rows[-1] == h - 1 or cols[-1] == w - 1:
        fig.savefig(path, dpi=DPI, bbox_inches="tight", pad_inches=0.15,
                    pil_kwargs={"compress_level": PNG_COMPRESSION})  # fmt: skip
        return path
    margin = round(0.15 * DPI)
    crop = pixels[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    out = np.full((crop.shape[0] + 2 * margin, crop.shape[1] + 2 * margin, 3), 255, np.uint8)
    out[margin : margin + crop.shape[0], margin : margin + crop.shape[1]] = crop
    strategy = {"compress_type": zlib.Z_RLE} if rle else {}
    Image.fromarray(out).save(path, format="png", compress_level=PNG_COMPRESSION, **strategy)
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
    return save_cropped(fig, path, rle=True)


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
    names = _class_list(y, label_names)
    legend = names is not None and len(names) <= LEGEND_MAX
    width = max(MAP_SIZE[0], MAP_SIDE_X + 0.55 + (_widest(names, 8) if legend else 1.9))
    fig = Figure(figsize=(width, MAP_SIZE[1]), dpi=DPI)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((MAP_AXES[0] / width, 0.09, MAP_AXES[1] / width, 0.82))
    order = np.random.default_rng(seed).permutation(m)
    size = float(np.clip(12000 / max(m, 1), 2, 40))
    if y is None:
        ax.scatter(*points2d[order].T, s=size, c="#3b6ea8", alpha=0.6, linewidths=0,
                   marker=_dot(size))  # fmt: skip
    ax.tick_params(labelsize=7)
    ax.grid(alpha=0.2)
    if y is not None:
        _scatter_classes(ax, fig, points2d, np.asarray(y), names, order, size)
    if _axis_text(ax, fig, axis_labels):
        # where ax.set_title(loc="left") puts it, without its layout pass at every draw
        add_text(fig, (MAP_AXES[0], 0.91 * MAP_SIZE[1] + 6 / 72), title, 11, va="baseline")
    else:  # the axes' own texts: the title moves above an offset text ("1e6")
        ax.set_xlabel(axis_labels[0], fontsize=9)
        ax.set_ylabel(axis_labels[1], fontsize=9)
        ax.set_title(title, fontsize=11, loc="left").set_parse_math(False)
    return fig


def _axis_text(ax, fig: Figure, axis_labels: tuple[str, str]) -> bool:
    """Tick labels (7 points) and axis names (9 points) as glyph outlines where the axes
    would draw them: tick labels 7 points (tick 3.5 + pad 3.5) off the axes, names 4
    points beyond them. False, drawing nothing, when a formatter needs an offset text
    (e.g. "1e6" at the axis end): the axes then draw their own."""
    ax.set_xlim(ax.get_xlim())  # settle autoscaled limits: the ticks depend on them
    ax.set_ylim(ax.get_ylim())
    ticks = []
    for axis, lim in ((ax.xaxis, ax.get_xlim()), (ax.yaxis, ax.get_ylim())):
        lo, hi, tol = min(lim), max(lim), 1e-10 * abs(lim[1] - lim[0])
        locs = [v for v in axis.get_major_locator()() if lo - tol <= v <= hi + tol]
        formatter = axis.get_major_formatter()
        labels = formatter.format_ticks(locs)
        if formatter.get_offset():
            return False
        ticks.append((np.asarray(locs, dtype=float), labels))
    pad = ScaledTranslation
    (xs, xlabels), (ys, ylabels) = ticks
    _, tick_h = _line_metrics(7, dpi=fig.dpi)
    below = text_collection(fig, xlabels, np.column_stack([xs, np.zeros(len(xs))]),
                            ax.get_xaxis_transform() + pad(0, -7 / 72, fig.dpi_scale_trans),
                            7, ha="center", va="top")  # fmt: skip
    left = text_collection(fig, ylabels, np.column_stack([np.zeros(len(ys)), ys]),
                           ax.get_yaxis_transform() + pad(-7 / 72, 0, fig.dpi_scale_trans),
                           7, ha="right", va="center_baseline")  # fmt: skip
    # control points bound the ink (exact Bezier extents cost ~1 ms a label)
    widest = max((np.ptp(p.vertices[:, 0]) for p in left.get_paths() if len(p.vertices)),
                 default=0.0)  # fmt: skip
    xname = text_collection(fig, [axis_labels[0]], [(0.5, 0)],
                            ax.transAxes + pad(0, -(7 + tick_h + 4) / 72, fig.dpi_scale_trans),
                            9, ha="center", va="top")  # fmt: skip
    yname = text_collection(fig, [axis_labels[1]], [(0, 0.5)],
                            ax.transAxes + pad(-(7 + widest + 4) / 72, 0, fig.dpi_scale_trans),
                            9, rotation=90, ha="center", va="bottom")  # fmt: skip
    for collection in (below, left, xname, yname):
        collection.set_clip_on(False)
        ax.add_collection(collection, autolim=False)
    ax.tick_params(labelbottom=False, labelleft=False)
    return True


def _class_list(y: np.ndarray | None, label_names: Sequence[str] | None) -> list[str] | None:
    """The names of the classes present in ``y`` (sorted by label id), or None."""
    if y is None:
        return None
    classes = np.unique(np.asarray(y))
    return [str(label_names[c]) if label_names is not None else str(c) for c in classes]


def _dot(size: float):
    """The scatter marker: a circle, drawn as an octagon below ~6 pixels across (no
    difference to see, a third less to draw for 10,000 points)."""
    from matplotlib.markers import MarkerStyle

    return MarkerStyle(MplPath.unit_regular_polygon(8)) if np.sqrt(size) * DPI / 72 < 6 else "o"


def _scatter_classes(ax, fig, points, y, names, order, size) -> None:
    classes, counts = np.unique(y, return_counts=True)
    palette = _palette(int(classes.max()) + 1)
    ax.scatter(*points[order].T, s=size, c=palette[y[order]], alpha=0.7, linewidths=0,
               marker=_dot(size))  # fmt: skip
    many = len(classes) > LEGEND_MAX
    ranked = np.argsort(-counts, kind="stable") if many else np.arange(len(classes))
    written = _class_names(ax, fig, points, y, classes[ranked], [names[i] for i in ranked],
                           palette, NAMED_MAX if many else len(classes))  # fmt: skip
    side = MAP_SIDE_X / fig.get_figwidth()
    if not many:
        handles = [ax.scatter([], [], s=30, color=palette[c]) for c in classes]
        legend = fig.legend(handles, names, loc="center left", bbox_to_anchor=(side, 0.5),
                            fontsize=8, frameon=False, title="label", title_fontsize=9)  # fmt: skip
        for text in legend.get_texts():
            text.set_parse_math(False)
    else:
        note = (f"{len(classes)} classes: colours run\nthrough a continuous map;\n"
                f"names of {written} of the\nlargest at their centres\n(all points: map.csv)")  # fmt: skip
        add_text(fig, (MAP_SIDE_X, MAP_SIZE[1] / 2), note, 8, va="center", color="0.3")


def _class_names(ax, fig, points, y, classes, names, palette, limit: int) -> int:
    """Write up to ``limit`` class names (bold, 8 points, a white halo) at their median
    points, skipping any that would overlap a written one or leave the axes; returns how
    many were written. The names are glyph outlines: a halo collection, then a fill."""
    ax.set_xlim(ax.get_xlim())  # settle the autoscaled limits before measuring text
    ax.set_ylim(ax.get_ylim())
    inside = ax.get_window_extent(fig.canvas.get_renderer())
    placed: list = []
    kept: list[tuple[str, np.ndarray, np.ndarray, MplPath]] = []
    style = {"va": "center", "weight": "bold"}
    for c, name in zip(classes, names, strict=True):
        if len(placed) >= limit:
            break
        label, anchor = shorten(name, 24), np.median(points[y == c], axis=0)
        points_box = text_box(label, 8, ha="center", dpi=fig.dpi, **style).get_points()
        points_box = points_box * fig.dpi / 72
        box = Bbox(points_box + ax.transData.transform(anchor)).expanded(1.05, 1.15)
        fits = (box.x0 >= inside.x0 and box.x1 <= inside.x1 and box.y0 >= inside.y0
                and box.y1 <= inside.y1)  # fmt: skip
        if not fits or any(box.overlaps(other) for other in placed):
            continue
        placed.append(box)
        path = text_path(label, 8, ha="center", dpi=fig.dpi, **style)
        kept.append((label, anchor, palette[c] * 0.7, path))
    if kept:
        labels, anchors, colours, paths = (list(v) for v in zip(*kept, strict=True))
        for halo in (True, False):  # as patheffects.withStroke(linewidth=2.5, white)
            names_drawn = text_collection(fig, labels, np.array(anchors), ax.transData, 8,
                                          paths=paths, facecolors=np.array(colours))  # fmt: skip
            names_drawn.set_gid("class names halo" if halo else "class names")
            if halo:
                names_drawn.set_edgecolor("white")
                names_drawn.set_linewidth(2.5)
            ax.add_collection(names_drawn, autolim=False)
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


def _group_lines(ax, names: list[str]) -> None:
    """Lines between runs of equal labels, across the whole matrix."""
    cuts = [i - 0.5 for i in range(1, len(names)) if names[i] != names[i - 1]]
    if cuts:
        ends = (-0.5, len(names) - 0.5)
        ax.hlines(cuts, *ends, color="0.25", linewidth=0.6)
        ax.vlines(cuts, *ends, color="0.25", linewidth=0.6)


def _write_values(ax, sim: np.ndarray, rgba: np.ndarray) -> None:
    """Each cell's cosine (``.36``) in its cell (:func:`cell_values`)."""
    n = len(sim)
    values = [f"{v + 0.0:.2f}".replace("0.", ".", 1).replace("-.00", ".00") for v in sim.ravel()]
    ii, jj = np.divmod(np.arange(n * n), n)
    cell_values(ax, values, ii, jj, rgba, 6.5 if n > 12 else 8)


def _draw_thumbnails(fig: Figure, thumbnails, matrix: tuple, cell: float) -> None:
    """Thumbnails left of each row and below each column, 0.92 of a cell in size, 2
    points from the matrix: one strip image each way. ``matrix`` is (left, bottom,
    side) in inches."""
    left, bottom, side = matrix
    w, h = fig.get_size_inches()
    gap, size = 2 / 72, cell * 0.92
    for rect, axis in (
        ((left - gap - size, bottom, size, side), 0),
        ((left, bottom - gap - size, side, size), 1),
    ):
        tax = fig.add_axes((rect[0] / w, rect[1] / h, rect[2] / w, rect[3] / h))
        tax.imshow(_thumb_strip(thumbnails, axis), aspect="auto", interpolation="antialiased")
        tax.set_axis_off()


def _thumb_strip(thumbnails, axis: int) -> np.ndarray:
    """RGB: the thumbnails one under another (``axis`` 0) or side by side (1), each
    centred in a white slot 1/0.92 its size; a grey one stretched to black..white as
    ``imshow`` shows it."""
    slot = round(THUMB_PX / 0.92)
    edge = (slot - THUMB_PX) // 2
    shape = (len(thumbnails) * slot, slot) if axis == 0 else (slot, len(thumbnails) * slot)
    strip = np.full((*shape, 3), 255, np.uint8)
    for i, img in enumerate(thumbnails):
        arr, cmap = _thumb_array(img)
        if cmap == "gray":
            lo, hi = float(arr.min()), float(arr.max())
            arr = (arr - lo) * (255 / (hi - lo)) if hi > lo else np.zeros_like(arr)
            arr = np.repeat(arr.astype(np.uint8)[..., None], 3, axis=2)
        y, x = (i * slot + edge, edge) if axis == 0 else (edge, i * slot + edge)
        strip[y : y + THUMB_PX, x : x + THUMB_PX] = arr
    return strip


def _thumb_array(img: Image.Image) -> tuple[np.ndarray, str | None]:
    gray = img.mode in ("L", "1", "I", "I;16", "F")
    img = img.convert("L" if gray else "RGB")
    img = img.resize(
        (THUMB_PX, THUMB_PX),
        Image.Resampling.NEAREST if max(img.size) < THUMB_PX else Image.Resampling.LANCZOS,
    )
    return np.asarray(img), ("gray" if gray else None)
