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
    assert np.abs(np.subtract(*boxes)).max() <= 4, boxes


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
