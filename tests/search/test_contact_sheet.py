"""The contact sheet laid out by grid arithmetic on one figure (issue 16): it grows with
its rows, draws every caption and text inside its own cell (nothing clipped by the
canvas, nothing over a neighbour), shows thumbnails pixel for pixel with their aspect,
and draws user text verbatim."""

from __future__ import annotations

import io

import numpy as np
import pytest
from matplotlib.patches import PathPatch
from matplotlib.transforms import Bbox
from PIL import Image
from sklearn.datasets import load_digits

from reprlearn.search.contact_sheet import MAX_ROWS, contact_sheet, contact_sheet_figure
from reprlearn.search.items import Items

QUESTIONS = [
    "What is the abbreviated term used for the National Bureau of Investigation ?",
    "How many people in the USA say their number one source of information is the newspaper ?",
    "What is the name of the 1919 occurrence in which British troops killed over 3 "
    "unarmed Indian protestors ?",
    "Who was the captain of the tanker , Exxon Valdez , involved in the oil spill in "
    "Prince William Sound , Alaska , 1989 ?",
    "What does cc in engines mean ?",
    "care deftly captures the wonder and menace of growing up , but he never really "
    "embraces the joy of fuhrman 's destructive escapism or the grace-in-rebellion found "
    "by his characters .",
]


def _text_rows(nrows: int, ncols: int = 6) -> tuple[list[list[dict]], Items]:
    items = Items("text", {i: QUESTIONS[i % len(QUESTIONS)] for i in range(nrows * ncols)})
    rows = [[{"id": r * ncols + c, "caption": f"#{r * ncols + c} ENTY:termeq · 0.{90 - c}"}
             for c in range(ncols)] for r in range(nrows)]  # fmt: skip
    return rows, items


def _outlines(fig) -> list[PathPatch]:
    """The texts drawn as glyph outlines (captions and cell texts), labelled with it."""
    return [a for a in fig.artists if isinstance(a, PathPatch) and a.get_label()]


def _texts(fig) -> dict[str, object]:
    """Every text of the sheet: Text artists and glyph outlines, by their string."""
    return {**{t.get_text(): t for t in fig.texts}, **{a.get_label(): a for a in _outlines(fig)}}


def _extent(artist, renderer) -> Bbox:
    """Pixels an artist may cover: a Text's box, or the control points' box of an outline
    (which holds its curves; exact Bezier extents take seconds for 192 texts)."""
    if isinstance(artist, PathPatch):
        xy = artist.get_transform().transform(artist.get_path().vertices)
        return Bbox.from_extents(*xy.min(axis=0), *xy.max(axis=0))
    return artist.get_window_extent(renderer)


def _size(path) -> tuple[int, int]:
    with Image.open(path) as img:
        return img.size


def test_the_sheet_grows_with_its_rows_up_to_16(tmp_path):
    heights = {}
    for n in (2, 4, 16, 20):
        rows, items = _text_rows(n, 3)
        heights[n] = _size(contact_sheet(rows, items, tmp_path / f"{n}.png", "neighbours"))[1]
    assert heights[2] < heights[4] < heights[16] == heights[20]  # 20 rows: the first 16 shown
    # a row of 2 cells is as wide as the 6-inch minimum, a row of 6 wider
    rows, items = _text_rows(1, 2)
    narrow = _size(contact_sheet(rows, items, tmp_path / "narrow.png", "t"))
    assert narrow == (660, round((1.5 + 0.6) * 110))
    assert _size(tmp_path / "16.png")[0] > narrow[0]  # 3 cells of 2.6 inches


def test_every_caption_and_text_is_drawn_inside_its_own_cell():
    rows, items = _text_rows(20)
    fig = contact_sheet_figure(rows, items, "Nearest neighbours · minilm")
    renderer = fig.canvas.get_renderer()
    texts = _texts(fig)
    assert f"Nearest neighbours · minilm (first {MAX_ROWS} of 20)" in texts
    shown = [cell for row in rows[:MAX_ROWS] for cell in row]
    for cell in shown:  # every caption, every text (wrapped: compare the words)
        assert cell["caption"] in texts
        words = items.text[cell["id"]].split()
        assert any(t.split() == words for t in texts)
    canvas = fig.bbox
    clips = []
    for t in [*fig.texts, *_outlines(fig)]:
        visible = _extent(t, renderer)
        clip = t.get_clip_box()
        if clip is not None:  # a cell's text: what is drawn is the part inside its clip
            visible = Bbox.intersection(visible, clip)
            clips.append(clip)
        assert visible is not None and canvas.x0 <= visible.x0 and visible.x1 <= canvas.x1
        assert canvas.y0 <= visible.y0 and visible.y1 <= canvas.y1
    assert len(clips) == 2 * len(shown)  # a caption and a text per cell
    # cells' clip areas never overlap (touching is fine): pairwise, vectorised
    ext = np.array([c.extents for c in clips])  # (x0, y0, x1, y1)
    w = np.minimum(ext[:, None, 2], ext[None, :, 2]) - np.maximum(ext[:, None, 0], ext[None, :, 0])
    h = np.minimum(ext[:, None, 3], ext[None, :, 3]) - np.maximum(ext[:, None, 1], ext[None, :, 1])
    overlap = np.clip(w, 0, None) * np.clip(h, 0, None)
    np.fill_diagonal(overlap, 0)
    assert overlap.max() < 1.0


def test_long_and_dollar_texts_are_drawn_verbatim_and_clipped(tmp_path):
    # before: "$\\foo$" in a text or caption was parsed as mathtext: ValueError
    items = Items("text", {0: "costs $\\frac{1}$ dollars", 1: "W" * 240, 2: "x"})
    rows = [[{"id": 0, "caption": "#0 $\\foo$"}, {"id": 1, "caption": "a" * 80},
             {"id": 2, "caption": "#2"}]]  # fmt: skip
    fig = contact_sheet_figure(rows, items, "prices in $")
    strings = list(_texts(fig))
    assert "costs $\\frac{1}$ dollars" in strings and "#0 $\\foo$" in strings
    caption = next(s for s in strings if s.startswith("aaa"))
    assert caption.endswith("\u2026") and len(caption) < 80  # cut to its column
    assert contact_sheet(rows, items, tmp_path / "d.png", "prices in $").is_file()


def test_thumbnails_keep_their_aspect_and_fill_their_frame(tmp_path):
    digits = load_digits()
    pictures = {i: Image.fromarray((digits.images[i] * 15).astype(np.uint8), "L")
                for i in range(11)}  # fmt: skip
    pictures[11] = Image.new("RGB", (20, 40), (255, 0, 0))  # a tall red image
    items = Items("image", {i: f"digits/{i}.png" for i in range(12)}, pictures)
    rows = [[{"id": r * 6 + c, "caption": f"#{r * 6 + c} {r * 6 + c}"} for c in range(6)]
            for r in range(2)]  # fmt: skip
    path = contact_sheet(rows, items, tmp_path / "digits.png", "digits")
    pixels = np.asarray(Image.open(path).convert("RGB")).astype(int)
    red = (pixels[..., 0] > 200) & (pixels[..., 1] < 50) & (pixels[..., 2] < 50)
    ys, xs = np.nonzero(red)
    height, width = np.ptp(ys) + 1, np.ptp(xs) + 1
    assert abs(height / width - 2.0) < 0.05  # aspect kept
    assert height > 1.9 * 110 * 0.6  # as tall as the cell's box allows, not a 40-px stamp
    # the digits' black backgrounds are drawn, upscaled (each 8x8 digit is ~150 px wide)
    assert (pixels.max(axis=2) < 30).mean() > 0.2


def test_an_empty_sheet_says_nothing_found():
    fig = contact_sheet_figure([], Items("text"), "Duplicates")
    assert {"nothing found", "Duplicates"} <= set(_texts(fig))


@pytest.mark.shared_data
def test_cifar_thumbnails_are_drawn(shared_data, tmp_path):
    import pyarrow.parquet as pq

    table = pq.read_table(shared_data / "cifar10" / "test.parquet").slice(0, 12).to_pylist()
    pictures = {i: Image.open(io.BytesIO(r["image"]["bytes"])) for i, r in enumerate(table)}
    items = Items("image", {i: r["image"]["path"] for i, r in enumerate(table)}, pictures)
    rows = [[{"id": r * 6 + c, "caption": f"#{r * 6 + c}"} for c in range(6)] for r in range(2)]
    path = contact_sheet(rows, items, tmp_path / "cifar.png", "CIFAR-10")
    pixels = np.asarray(Image.open(path).convert("RGB")).astype(int)
    colourful = (pixels.max(axis=2) - pixels.min(axis=2)) > 40
    assert colourful.mean() > 0.1  # photos, not blank frames
