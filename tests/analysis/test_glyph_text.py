"""Text drawn as glyph outlines lands where matplotlib's Text would put it (same lines,
same alignment, within a few pixels), so the contact sheet looks as it did."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

from reprlearn.analysis.glyph_text import add_text, text_path

TEXT = "What is the abbreviated term used\nfor the National Bureau of\nInvestigation ?"


def _ink(fig: Figure) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) of the non-white pixels, y downwards."""
    fig.canvas.draw()
    ink = np.asarray(fig.canvas.buffer_rgba())[..., :3].min(axis=2) < 200
    ys, xs = np.nonzero(ink)
    return xs.min(), ys.min(), xs.max(), ys.max()


@pytest.mark.parametrize(("ha", "va"), [("left", "top"), ("center", "bottom"),
                                        ("right", "center")])  # fmt: skip
def test_outlines_land_where_text_would(ha, va):
    boxes = []
    for outline in (False, True):
        fig = Figure(figsize=(4, 2), dpi=110)
        FigureCanvasAgg(fig)
        if outline:
            add_text(fig, (2, 1), TEXT, 6.5, ha=ha, va=va)
        else:
            fig.text(2, 1, TEXT, fontsize=6.5, ha=ha, va=va, transform=fig.dpi_scale_trans)
        boxes.append(_ink(fig))
    # unhinted advances: a 170-pixel line comes out up to 2% (3 px) wider than hinted Text
    # hinted (Text) and unhinted (outline) advances differ by up to ~2% of a line
    extent = max(boxes[0][2] - boxes[0][0], boxes[0][3] - boxes[0][1])
    assert np.abs(np.subtract(*boxes)).max() <= max(4, 0.025 * extent), boxes


def test_clipped_empty_and_bold_texts(tmp_path):
    fig = Figure(figsize=(3, 1), dpi=110)
    FigureCanvasAgg(fig)
    from matplotlib.transforms import Bbox

    patch = add_text(fig, (0.1, 0.9), "W" * 80, 7, clip=Bbox.from_extents(0, 0, 1.5, 1))
    assert patch.get_label() == "W" * 80
    add_text(fig, (2, 0.5), "", 7)  # nothing to draw, no error
    x0, _, x1, _ = _ink(fig)
    assert x1 <= 1.5 * 110 + 1  # clipped at 1.5 inches
    bold = text_path("bold", 8, weight="bold").get_extents()
    normal = text_path("bold", 8).get_extents()
    assert bold.width > normal.width
    fig.savefig(tmp_path / "g.png")
    assert Image.open(tmp_path / "g.png").size == (330, 110)


@pytest.mark.parametrize("rotated", [False, True])
def test_collections_place_labels_as_tick_labels(rotated):
    """Row labels (``center_baseline``, as y tick labels) and column labels (rotated 90
    degrees, centred, top at the anchor, as ``set_xticks(rotation=90)``)."""
    from matplotlib.transforms import IdentityTransform

    from reprlearn.analysis.glyph_text import text_collection

    labels = ["airplane", "automobile", "ENTY:techmeth  What are the diff…"]
    anchors = np.array([[300.0, 60.0], [300.0, 120.0], [300.0, 180.0]])
    if rotated:
        anchors = anchors[:, ::-1].copy()
    boxes = []
    for outline in (False, True):
        fig = Figure(figsize=(4, 3), dpi=150)
        FigureCanvasAgg(fig)
        align = {"rotation": 90, "ha": "right", "va": "center"} if rotated else {
            "ha": "right", "va": "center_baseline"}  # fmt: skip
        if outline:
            fig.add_artist(text_collection(fig, labels, anchors, IdentityTransform(), 8, **align))
        else:
            for label, (x, y) in zip(labels, anchors, strict=True):
                fig.text(x, y, label, fontsize=8, transform=IdentityTransform(),
                         **({"rotation": 90, "ha": "center", "va": "top"} if rotated else align))  # fmt: skip
        boxes.append(_ink(fig))
    # hinted (Text) and unhinted (outline) advances differ by up to ~2% of a line
    extent = max(boxes[0][2] - boxes[0][0], boxes[0][3] - boxes[0][1])
    assert np.abs(np.subtract(*boxes)).max() <= max(4, 0.025 * extent), boxes


def test_text_box_is_the_window_extent_of_the_text():
    from reprlearn.analysis.glyph_text import text_box

    fig = Figure(figsize=(3, 2), dpi=150)
    FigureCanvasAgg(fig)
    text = fig.text(1.5, 1, "DESC:manner", fontsize=8, weight="bold", ha="center", va="center",
                    transform=fig.dpi_scale_trans)  # fmt: skip
    extent = text.get_window_extent(fig.canvas.get_renderer())
    box = text_box("DESC:manner", 8, ha="center", va="center", weight="bold", dpi=150)
    points = box.get_points() * 150 / 72 + (1.5 * 150, 150)
    assert np.allclose(points, extent.get_points(), atol=0.6)
