"""The heatmap and the map drawn once (issue 16): room measured for the labels, the
values one collection of glyph outlines, the PNG cropped to its ink, with the slow tight
bounding box kept only for a figure whose ink reaches its edge; user text verbatim."""

from __future__ import annotations

import numpy as np
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure
from PIL import Image

from reprlearn.analysis.plots import (
    DPI,
    projection_figure,
    projection_scatter,
    save_cropped,
    shorten,
    similarity_figure,
    similarity_heatmap,
)
from reprlearn.analysis.similarity import cosine_similarity_matrix

TEXTS = [
    "What is the abbreviated term used for the National Bureau of Investigation ?",
    "What does cc in engines mean ?",
    "How many people in the USA say their number one source of information is the paper ?",
    "Who was the captain of the tanker , Exxon Valdez ?",
]


def _edge_is_blank(path) -> bool:
    a = np.asarray(Image.open(path).convert("L"))
    border = np.concatenate([a[:2].ravel(), a[-2:].ravel(), a[:, :2].ravel(), a[:, -2:].ravel()])
    return bool(border.min() > 250)


def _margin_px(path) -> int:
    """The white margin around the ink, in pixels (the smallest of the four sides)."""
    ink = np.asarray(Image.open(path).convert("L")) < 255
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    return int(min(rows[0], cols[0], ink.shape[0] - 1 - rows[-1], ink.shape[1] - 1 - cols[-1]))


def test_heatmap_draws_every_value_label_and_is_cropped_to_its_ink(tmp_path, digits):
    X, y = digits
    sim = cosine_similarity_matrix(X[:20])
    labels = [f"digit_{c}" for c in y[:20]]
    texts = [TEXTS[i % 4] for i in range(20)]
    fig = similarity_figure(sim, labels, texts=texts, title="Cosine similarity of 20 items")
    texts_drawn = [c for c in fig.axes[0].collections if isinstance(c, PathCollection)]
    rows_, columns, values = (c.get_label().split("\n") for c in texts_drawn)
    assert len(values) == 400  # one number per cell, one collection
    assert values[1] == f"{sim[0, 1]:.2f}".replace("0.", ".", 1)
    colours = texts_drawn[2].get_facecolors()
    assert np.allclose(colours[0], [1, 1, 1, 1])  # the diagonal (1.00, dark red): white
    assert rows_ == [f"{lab}  {shorten(t)}" for lab, t in zip(labels, texts, strict=True)]
    assert columns == labels
    path = similarity_heatmap(sim, labels, tmp_path / "sim.png", texts=texts)
    assert _edge_is_blank(path)
    assert abs(_margin_px(path) - round(0.15 * DPI)) <= 2  # bbox_inches="tight"'s margin


def test_heatmap_of_96_items_with_thumbnails_is_not_clipped(tmp_path, digits):
    X, y = digits
    thumbs = [Image.fromarray((X[i].reshape(8, 8) * 15).astype(np.uint8), "L") for i in range(96)]
    path = similarity_heatmap(cosine_similarity_matrix(X[:96]), [str(c) for c in y[:96]],
                              tmp_path / "big.png", thumbnails=thumbs)  # fmt: skip
    assert _edge_is_blank(path)
    assert Image.open(path).height > 8 * DPI  # the matrix is ~8.4 inches


def test_a_figure_whose_ink_reaches_its_edge_is_saved_whole(tmp_path):
    fig = Figure(figsize=(2, 1), dpi=DPI)
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    fig.text(0.5, 0.5, "a label far wider than the two-inch figure it sits in", ha="center")
    path = save_cropped(fig, tmp_path / "wide.png")
    assert Image.open(path).width > 2 * DPI and _edge_is_blank(path)


def test_map_legend_of_long_names_widens_the_figure(tmp_path):
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(20), 30)
    points = rng.normal(size=(20, 2))[y] * 4 + rng.normal(size=(600, 2))
    names = [f"intent_refund_not_showing_up_after_a_long_week_{i}" for i in range(20)]
    fig = projection_figure(points, y, names, title="PCA map")
    assert fig.get_figwidth() > 7.5 and len(fig.legends) == 1
    path = projection_scatter(points, y, names, tmp_path / "map.png")
    assert _edge_is_blank(path)


def test_user_text_with_dollar_signs_is_drawn_verbatim(tmp_path):
    # before: "$\\foo$" in a label, text, class name or title was parsed as mathtext and
    # drawing raised ValueError (Unknown symbol)
    sim = np.array([[1.0, 0.2], [0.2, 1.0]])
    path = similarity_heatmap(sim, ["$\\foo$", "b"], tmp_path / "s.png", texts=["$x^$", "y"],
                              title="costs in $")  # fmt: skip
    assert path.is_file()
    y = np.arange(40) % 2
    points = np.random.default_rng(0).normal(size=(40, 2)) + y[:, None] * 4
    fig = projection_figure(points, y, ["$\\foo$", "b"], title="$\\bar$")
    assert "$\\foo$" in [t.get_text() for t in fig.legends[0].get_texts()]
    assert projection_scatter(points, y, ["$\\foo$", "b"], tmp_path / "m.png").is_file()


def test_map_axis_text_as_outlines_or_the_axes_own_when_an_offset_is_needed(tmp_path):
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(3), 50)
    points = rng.normal(size=(150, 2)) + y[:, None] * 3
    fig = projection_figure(points, y, list("abc"), axis_labels=("PC 1", "PC 2"))
    ax = fig.axes[0]
    drawn = "\n".join(c.get_label() for c in ax.collections)
    assert "PC 1" in drawn and "PC 2" in drawn and not ax.get_xlabel()
    ticks = ax.xaxis.get_major_formatter().format_ticks(ax.get_xticks())
    assert any(t in drawn.split("\n") for t in ticks)
    # coordinates near a million with a spread of one: the formatter needs "+1e6"
    fig = projection_figure(points + 1e6, y, list("abc"), title="map", axis_labels=("PC 1", "PC 2"))
    # matplotlib's own labels and offset text, and a title that moves above the offset
    assert fig.axes[0].get_xlabel() == "PC 1" and fig.axes[0].get_title(loc="left") == "map"
    path = projection_scatter(points + 1e6, y, list("abc"), tmp_path / "offset.png")
    assert _edge_is_blank(path)
