"""Text drawn as glyph outlines: thousands of glyphs in a figure without the cost of
thousands of Text draws (issue 16).

Matplotlib 3.11's Agg renders each glyph of a :class:`~matplotlib.text.Text` from
Python (~50 us a glyph, ~0.7 ms more a line for layout and metrics); a 16 x 6 contact
sheet holds ~6,500 glyphs, so most of its drawing time went there. Here a line is laid
out by FreeType (raqm, kerning included) through matplotlib's
:class:`~matplotlib.textpath.TextToPath` - the route its PDF and SVG backends take to
reuse glyphs - each glyph's outline is loaded once per process, and Agg fills all the
outlines of a text in one ``draw_path``. At 6-11 points they look as Text does
(unhinted outlines; hinting moves a stroke by under a pixel).

:func:`text_path` returns the outline of a (multi-line) text placed as a Text with the
same alignment would be (Agg's own line box and spacing at the figure's dpi);
:func:`add_text` adds one to a figure, clipped if asked; :func:`text_collection` puts
many short texts (tick labels, cell values, class names) in one collection; and
:func:`text_box` is the window extent a Text would report, for layouts that avoid
overlaps. Hinted Text and unhinted outlines differ by up to ~2% of a line's width.
"""

from __future__ import annotations

import functools

import numpy as np
from matplotlib.backends.backend_agg import RendererAgg
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties, findfont, get_font
from matplotlib.patches import PathPatch
from matplotlib.path import Path as MplPath
from matplotlib.textpath import TextToPath, text_to_path
from matplotlib.transforms import Affine2D, Bbox, TransformedBbox

LINESPACING = 1.2  # as Text's default: baselines 1.2 x the height of "lp" apart
_GLYPHS: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # glyph id -> outline, font units


@functools.lru_cache(maxsize=4)
def _renderer(dpi: float) -> RendererAgg:
    """A 1x1 Agg renderer: text metrics only (they do not depend on the canvas size)."""
    return RendererAgg(1, 1, dpi)


@functools.lru_cache(maxsize=32)
def _metrics(fontsize: float, weight: str, dpi: float) -> tuple[float, float]:
    """(ascent, full height) in points of "lp" as Agg measures it at ``dpi`` (hinted,
    whole pixels): the line box Text aligns and spaces its lines by."""
    prop = FontProperties(size=fontsize, weight=weight)
    _, height, descent = _renderer(dpi).get_text_width_height_descent("lp", prop, ismath=False)
    return (height - descent) * 72 / dpi, height * 72 / dpi


def _line(text: str, weight: str) -> tuple[np.ndarray, np.ndarray]:
    """Vertices (font units, baseline at y=0, starting at x=0) and codes of one line."""
    font = get_font(findfont(FontProperties(weight=weight)))
    font.set_size(TextToPath.FONT_SCALE, TextToPath.DPI)  # the font object is shared
    info, new, _ = text_to_path.get_glyphs_with_font(
        font, text, glyph_map=_GLYPHS, return_new_glyphs_only=True
    )
    _GLYPHS.update(new)
    verts = [_GLYPHS[g][0] + (x, y) for g, x, y, _ in info]
    codes = [_GLYPHS[g][1] for g, *_ in info]
    if not verts:
        return np.empty((0, 2)), np.empty(0, dtype=MplPath.code_type)
    return np.concatenate(verts), np.concatenate(codes).astype(MplPath.code_type)


def line_metrics(fontsize: float, weight: str = "normal", dpi: float = 100.0) -> tuple:
    """(ascent, height) in points of a line's "lp" box, as Agg measures it at ``dpi``."""
    return _metrics(fontsize, weight, dpi)


def _shift(va: str, nlines: int, fontsize: float, weight: str, dpi: float) -> float:
    """Points from the first baseline down to the anchor for vertical alignment ``va``."""
    ascent, height = _metrics(fontsize, weight, dpi)
    top = ascent  # the first line's box top, above its baseline
    bottom = -(nlines - 1) * LINESPACING * height - (height - ascent)
    return {"top": top, "bottom": bottom, "center": (top + bottom) / 2, "baseline": 0.0,
            "center_baseline": top / 2}[va]  # fmt: skip


def text_box(
    text: str,
    fontsize: float,
    *,
    ha: str = "left",
    va: str = "top",
    weight: str = "normal",
    dpi: float = 100.0,
) -> Bbox:
    """The box in points around the anchor that a one-line Text of ``text`` with this
    alignment reports as its window extent: Agg's (hinted) width at ``dpi`` and the "lp"
    line box, so a layout decided on these boxes is the one Text artists gave."""
    renderer = _renderer(dpi)
    prop = FontProperties(size=fontsize, weight=weight)
    width = renderer.get_text_width_height_descent(text, prop, ismath=False)[0] * 72 / dpi
    x0 = {"left": 0.0, "center": -width / 2, "right": -width}[ha]
    ascent, height = _metrics(fontsize, weight, dpi)
    shift = _shift(va, 1, fontsize, weight, dpi)
    return Bbox.from_extents(x0, ascent - height - shift, x0 + width, ascent - shift)


def text_path(
    text: str,
    fontsize: float,
    *,
    ha: str = "left",
    va: str = "top",
    weight: str = "normal",
    dpi: float = 100.0,
) -> MplPath:
    """The outline of ``text`` (lines split at newlines) in points, placed as a Text at
    (0, 0) with this horizontal (``left``/``center``/``right``, each line aligned so)
    and vertical alignment (``top``: the first line's "lp" box top; ``bottom``: the last
    line's "lp" box bottom; ``center``; ``baseline``: the first line's;
    ``center_baseline``: halfway from the top to the first baseline, as y tick labels) would
    be when drawn at ``dpi``."""
    scale = fontsize / TextToPath.FONT_SCALE
    ascent, height = (v / scale for v in _metrics(fontsize, weight, dpi))  # font units
    step = LINESPACING * height
    lines = text.split("\n")
    verts, codes = [], []
    for k, line in enumerate(lines):
        v, c = _line(line, weight)
        if not len(v):
            continue
        if ha != "left":
            x0, x1 = v[:, 0].min(), v[:, 0].max()  # the ink, as Text's box is
            v = v - ((x0 + x1) / 2 if ha == "center" else x1, 0)
        verts.append(v - (0, k * step))
        codes.append(c)
    if not verts:
        return MplPath(np.empty((0, 2)))
    shift = _shift(va, len(lines), fontsize, weight, dpi) / scale
    return MplPath((np.concatenate(verts) - (0, shift)) * scale, np.concatenate(codes))


def add_text(
    fig: Figure,
    xy: tuple[float, float],
    text: str,
    fontsize: float,
    *,
    clip: Bbox | None = None,
    color: str = "black",
    **align,
) -> PathPatch:
    """Draw ``text`` at ``xy`` (inches from the figure's bottom left) as one filled path,
    clipped to ``clip`` (inches) when given; ``align``: ``ha``, ``va``, ``weight`` of
    :func:`text_path`. The artist's label is the text (what a test or a reader finds)."""
    path = text_path(text, fontsize, dpi=fig.dpi, **align)
    to_inches = Affine2D().scale(1 / 72).translate(*xy)
    patch = PathPatch(path, transform=to_inches + fig.dpi_scale_trans, facecolor=color,
                      edgecolor="none", linewidth=0, label=text)  # fmt: skip
    if clip is not None:
        patch.set_clip_box(TransformedBbox(clip, fig.dpi_scale_trans))
        patch.set_clip_on(True)
    fig.add_artist(patch)
    return patch


def text_collection(
    fig: Figure,
    texts: list[str],
    offsets: np.ndarray,
    offset_transform,
    fontsize: float,
    *,
    rotation: float = 0.0,
    facecolors="black",
    cache: bool = False,
    paths: list[MplPath] | None = None,
    **align,
) -> PathCollection:
    """Many short texts as one collection: ``texts[i]`` placed at ``offsets[i]`` (in
    ``offset_transform``'s coordinates) as a Text with ``align`` (``ha``, ``va``,
    ``weight``) and ``rotation`` (degrees, about the anchor, applied after the
    alignment as Text's ``rotation_mode="anchor"``) would be. ``cache``: keep each
    string's outline for the process (repeated strings, e.g. cell values); ``paths``:
    the outlines, already made by :func:`text_path` (unrotated). Add it with
    ``ax.add_collection(..., autolim=False)``; its label is the texts, one a line."""
    outline = _cached_path if cache else text_path
    turn = Affine2D().rotate_deg(rotation)
    if paths is None:
        paths = [outline(t, fontsize, dpi=fig.dpi, **align) for t in texts]
    if rotation:
        paths = [p.transformed(turn) for p in paths]
    collection = PathCollection(paths, offsets=offsets, offset_transform=offset_transform,
                                transform=Affine2D().scale(1 / 72) + fig.dpi_scale_trans,
                                facecolors=facecolors, edgecolors="none", linewidths=0,
                                label="\n".join(texts))  # fmt: skip
    return collection


@functools.lru_cache(maxsize=8192)
def _cached_path(text: str, fontsize: float, **align) -> MplPath:
    return text_path(text, fontsize, **align)
