"""A contact sheet: rows of items (thumbnails or texts) for a person to check by eye,
e.g. one row per duplicate group, or a test item beside its leaked training twin.

Drawn on one matplotlib :class:`~matplotlib.figure.Figure` without axes (issue 16: a
16 x 6 sheet took 2 s as 96 subplots with ``tight_layout``): the cells are placed by grid
arithmetic in inches, thumbnails are resized once with PIL and placed pixel for pixel
(``figimage``), all cell frames are one collection, and captions and texts are glyph
outlines (:mod:`reprlearn.analysis.glyph_text`) clipped to their cells, so nothing
overlaps a neighbour. ``benchmarks/figures.py`` measures it against the old drawing.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PatchCollection
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.transforms import Bbox
from PIL import Image

from reprlearn.analysis.glyph_text import add_text
from reprlearn.search.items import Items

MAX_ROWS = 16
MAX_COLUMNS = 6
DPI = 110
TEXT_CELL = (2.6, 1.5)  # inches per cell (width, height) of texts
IMAGE_CELL = (1.6, 1.9)  # ... and of thumbnails
MARGIN = 0.1  # inches around the grid
TITLE_ROOM = 0.5  # inches above the first row
CAPTION_ROOM = 0.2  # inches of caption above each box
GAP = 0.14  # inches between boxes
TEXT_FONT = 6.5  # points
CAPTION_FONT = 7.0
TEXT_CHARS = 240  # most characters of an item's text shown
WRAP_CHARS = 34  # characters per line, fewer in a narrow cell
PNG_COMPRESSION = 3  # zlib level: about as small as the default 6, several times faster


@dataclass(frozen=True)
class _Grid:
    """The sheet's geometry in inches, origin at the bottom left."""

    width: float
    height: float
    nrows: int
    ncols: int

    @property
    def column(self) -> float:
        return (self.width - 2 * MARGIN) / self.ncols

    @property
    def row(self) -> float:
        return (self.height - TITLE_ROOM - MARGIN) / self.nrows

    def top(self, r: int) -> float:
        """The top of row ``r`` (its caption's top)."""
        return self.height - TITLE_ROOM - r * self.row

    def box(self, r: int, c: int) -> Bbox:
        """The frame of cell (``r``, ``c``): below its caption, a gap from its neighbours."""
        x0 = MARGIN + c * self.column + GAP / 2
        y1 = self.top(r) - CAPTION_ROOM
        return Bbox.from_extents(x0, y1 - self.row + CAPTION_ROOM + GAP, x0 + self.column - GAP, y1)


def contact_sheet(
    rows: list[list[dict[str, Any]]],
    items: Items,
    path: str | Path,
    title: str,
) -> Path:
    """Draw ``rows`` (each a list of ``{"id", "caption", "items"}`` cells, at most 16 rows
    x 6 cells shown) as a PNG at ``path``: the image thumbnail of each id, or its text
    (first 240 characters, wrapped), under a caption (id, label, cosine).
    ``cell["items"]`` overrides ``items`` (a leakage row shows items of two stores).

    The PNG is 110 dpi; a cell is 2.6 x 1.5 inches for texts, 1.6 x 1.9 for images, the
    sheet at least 6 inches wide (see :func:`contact_sheet_figure`). Returns ``path`` as
    a :class:`~pathlib.Path`.
    """
    path = Path(path)
    contact_sheet_figure(rows, items, title).savefig(
        path, dpi=DPI, pil_kwargs={"compress_level": PNG_COMPRESSION}
    )
    return path


def contact_sheet_figure(rows: list[list[dict[str, Any]]], items: Items, title: str) -> Figure:
    """The contact sheet of :func:`contact_sheet` as a Figure (Agg canvas attached).

    Layout: row ``r`` (0 at the top) and column ``c`` of a grid of equal cells below a
    0.5-inch title band; each cell is its caption (one line, cut with an ellipsis to the
    cell's width) above a framed box holding the thumbnail (as large as fits, aspect
    kept, upscaled by repeating pixels) or the text (wrapped at 34 characters or fewer
    in a narrow cell). Every text is clipped to its cell and drawn verbatim (no
    mathtext), so no text overlaps another cell's. Without rows: "nothing found".
    """
    shown = rows[:MAX_ROWS]
    ncols = max(1, min(MAX_COLUMNS, max((len(r) for r in shown), default=1)))
    cell_w, cell_h = IMAGE_CELL if items.modality == "image" else TEXT_CELL
    nrows = max(1, len(shown))
    grid = _Grid(max(6.0, cell_w * ncols), cell_h * nrows + 0.6, nrows, ncols)
    fig = Figure(figsize=(grid.width, grid.height), dpi=DPI)
    FigureCanvasAgg(fig)
    frames: list[Rectangle] = []
    for r, row in enumerate(shown):
        for c, cell in enumerate(row[:ncols]):
            box = _draw_cell(fig, grid, r, c, cell, cell.get("items") or items)
            frames.append(Rectangle((box.x0, box.y0), box.width, box.height))
    fig.add_artist(PatchCollection(frames, facecolor="none", edgecolor="black", linewidth=0.8,
                                   transform=fig.dpi_scale_trans, zorder=2))  # fmt: skip
    if not shown:
        fig.text(0.5, 0.5, "nothing found", ha="center", va="center")
    more = f" (first {MAX_ROWS} of {len(rows)})" if len(rows) > MAX_ROWS else ""
    fig.text(grid.width / 2, grid.height - TITLE_ROOM / 2, title + more, fontsize=9,
             ha="center", va="center", transform=fig.dpi_scale_trans, parse_math=False)  # fmt: skip
    return fig


def _draw_cell(fig: Figure, grid: _Grid, r: int, c: int, cell: dict, src: Items) -> Bbox:
    """Draw one cell's caption and thumbnail or text; returns its frame (inches)."""
    box = grid.box(r, c)
    picture = src.image.get(cell["id"])
    if picture is not None:
        box = _draw_thumbnail(fig, picture, box)
    else:
        text = src.text.get(cell["id"]) or f"#{cell['id']}"
        chars = min(WRAP_CHARS, int(box.width * 72 / (TEXT_FONT * 0.62)))
        _clipped_text(fig, box, box.x0 + 0.03 * box.width, box.y1 - 0.05 * box.height,
                      textwrap.fill(text[:TEXT_CHARS], chars), fontsize=TEXT_FONT,
                      va="top", ha="left")  # fmt: skip
    column = Bbox.from_extents(box.x0 - GAP / 2, box.y1, box.x1 + GAP / 2, grid.top(r))
    _clipped_text(fig, column, (box.x0 + box.x1) / 2, box.y1 + 0.03, _caption(cell, column),
                  fontsize=CAPTION_FONT, va="bottom", ha="center")  # fmt: skip
    return box


def _caption(cell: dict, column: Bbox) -> str:
    """The caption on one line, cut with an ellipsis to what its column holds."""
    text = " ".join(str(cell["caption"]).split())
    fits = int(column.width * 72 / (CAPTION_FONT * 0.62))
    return text if len(text) <= fits else text[: fits - 1] + "\u2026"


def _clipped_text(fig: Figure, clip: Bbox, x: float, y: float, text: str, *, fontsize: float,
                  **align) -> None:  # fmt: skip
    """Write ``text`` at (``x``, ``y``) inches, clipped to ``clip`` (inches), as glyph
    outlines (:mod:`reprlearn.analysis.glyph_text`: a third of a Text's drawing time)."""
    add_text(fig, (x, y), text, fontsize, clip=clip, **align)


def _draw_thumbnail(fig: Figure, picture: Image.Image, box: Bbox) -> Bbox:
    """Place ``picture`` as large as fits ``box``, aspect kept, centred, pixel for pixel
    (upscaled by repeating pixels, as ``imshow`` shows a small image); returns its frame."""
    # opaque RGBA: shown as imshow shows .convert("RGB"), and matplotlib adds no alpha plane
    img = picture.convert("RGB").convert("RGBA")
    scale = min(box.width * DPI / img.width, box.height * DPI / img.height)
    w, h = max(1, round(img.width * scale)), max(1, round(img.height * scale))
    resample = Image.Resampling.NEAREST if scale >= 1 else Image.Resampling.LANCZOS
    img = img.resize((w, h), resample)
    x0 = round((box.x0 + box.x1) / 2 * DPI - w / 2)
    y0 = round((box.y0 + box.y1) / 2 * DPI - h / 2)
    fig.figimage(np.asarray(img), xo=x0, yo=y0, origin="upper", zorder=1)
    return Bbox.from_extents(x0 / DPI, y0 / DPI, (x0 + w) / DPI, (y0 + h) / DPI)
