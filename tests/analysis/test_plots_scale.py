"""Plots that scale (issue 15 item 8), on a 77-class synthetic store: labels never
clipped, a 2-D map without overlapping class names, a confusion matrix with a colour bar
and, above 20 classes, the most confused pairs, per-class accuracy and the full CSV."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from matplotlib.transforms import Bbox
from PIL import Image

from reprlearn.analysis.confusion import (
    confusion_figure,
    confusion_report,
    most_confused_pairs,
    per_class_accuracy,
)
from reprlearn.analysis.inspect import inspect
from reprlearn.analysis.plots import projection_figure, shorten, similarity_heatmap

CLASSES = [f"intent_{name}_{i}" for i, name in
           enumerate(["card_arrival", "exchange_rate", "top_up_failed", "pin_blocked",
                      "refund_not_showing_up", "transfer_timing", "lost_or_stolen_card"] * 11)]  # fmt: skip


@pytest.fixture(scope="module")
def store77(tmp_path_factory, make_store):
    """77 classes x 12 items, 32-d Gaussian clusters (a 77-class intent dataset's shape)."""
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(77, 32)) * 2.0
    y = np.repeat(np.arange(77), 12)
    X = (centres[y] + rng.normal(size=(len(y), 32))).astype(np.float32)
    return make_store(tmp_path_factory.mktemp("s77") / "store", X, y, label_names=CLASSES,
                      spec=None)  # fmt: skip


def _edge_is_blank(path) -> bool:
    """True when no ink touches the PNG's outer 2-pixel border (nothing clipped)."""
    a = np.asarray(Image.open(path).convert("L"))
    border = np.concatenate([a[:2].ravel(), a[-2:].ravel(), a[:, :2].ravel(), a[:, -2:].ravel()])
    return bool(border.min() > 250)


def test_similarity_labels_are_not_clipped(tmp_path):
    # before: long row labels (class + text) ran off the left and bottom edges
    sim = np.eye(8, dtype=np.float32) * 0.5 + 0.4
    labels = ["refund_not_showing_up_after_a_week"] * 4 + ["card_arrival"] * 4
    texts = ["Why is my refund still not showing up in my account after seven days?"] * 8
    path = similarity_heatmap(sim, labels, tmp_path / "sim.png", texts=texts)
    assert _edge_is_blank(path)


def test_map_of_77_classes_has_no_overlapping_names(store77):
    X, y = store77.to_numpy()
    from reprlearn.analysis.projection import project_2d

    proj = project_2d(X, "pca")
    fig = projection_figure(proj.points, y[proj.indices], CLASSES, title="PCA map")
    renderer = fig.canvas.get_renderer()
    ax = fig.axes[0]
    # the names: a white halo and a fill, two collections of glyph outlines
    halo, fill = [c for c in ax.collections if (c.get_gid() or "").startswith("class names")]
    assert halo.get_label() == fill.get_label()
    assert set(fill.get_label().split("\n")) <= {shorten(n, 24) for n in CLASSES}
    boxes = [Bbox(ax.transData.transform(xy) + path.get_extents().get_points() * fig.dpi / 72)
             for xy, path in zip(fill.get_offsets(), fill.get_paths(), strict=True)]  # fmt: skip
    assert 1 <= len(boxes) <= 12  # before: 77 names on top of each other
    inside = ax.get_window_extent(renderer)
    for i, a in enumerate(boxes):
        assert inside.x0 <= a.x0 and a.x1 <= inside.x1 and inside.y0 <= a.y0 and a.y1 <= inside.y1
        assert not any(a.overlaps(b) for b in boxes[i + 1 :])
    assert not fig.legends  # no 77-entry legend


def test_inspect_77_classes_writes_legible_pngs(store77, tmp_path):
    result = inspect(store77, tmp_path, sample=20, seed=3)
    assert len(result.classes) == 10
    for name in ("similarity.png", "map.png"):
        assert _edge_is_blank(tmp_path / name)


def _confusion77():
    rng = np.random.default_rng(1)
    confusion = np.diag(rng.integers(5, 40, size=77))
    confusion[3, 5] = 17  # the worst pair
    confusion[10, 11] = 9
    confusion[3, 3] = 2  # class 3: 2 right, 17 wrong
    return confusion


def test_confused_pairs_and_per_class_accuracy():
    confusion = _confusion77()
    pairs = most_confused_pairs(confusion, CLASSES, top=5)
    assert pairs[0] == {"true": CLASSES[3], "predicted": CLASSES[5], "count": 17,
                        "share_of_true": round(17 / 19, 4)}  # fmt: skip
    assert [p["count"] for p in pairs] == [17, 9]  # zero cells are never listed
    accuracy = per_class_accuracy(confusion, CLASSES)
    assert accuracy[0]["class"] == CLASSES[3] and accuracy[0]["accuracy"] == round(2 / 19, 4)
    values = [a["accuracy"] for a in accuracy]
    assert values == sorted(values)  # worst first


def test_confusion_report_files_and_colour_bar(tmp_path):
    confusion = _confusion77()
    report = confusion_report(confusion, CLASSES, tmp_path)
    assert report["many_classes"] is True
    assert set(report["files"]) == {"confusion.png", "confusion.csv", "confused_pairs.csv",
                                    "per_class_accuracy.csv"}  # fmt: skip
    with open(tmp_path / "confusion.csv", newline="") as f:
        rows = list(csv.reader(f))
    assert len(rows) == 78 and len(rows[0]) == 78 and rows[0][1:] == CLASSES
    assert int(rows[1 + 3][1 + 5]) == 17
    assert _edge_is_blank(tmp_path / "confusion.png")
    image = Image.open(tmp_path / "confusion.png")
    assert image.width > image.height  # the colour bar beside the square matrix


def test_report_shows_the_tables_above_20_classes(tmp_path):
    from reprlearn.report.html import _confusion_tables

    files = {k: tmp_path / k for k in confusion_report(_confusion77(), CLASSES, tmp_path)["files"]}
    html = "\n".join(_confusion_tables(files))
    assert "most confused pairs" in html and "per-class accuracy, worst 15 of 77" in html
    assert html.index(CLASSES[3]) < html.index(CLASSES[10])  # 17 confusions before 9
    five = tmp_path / "five"
    five.mkdir()
    small = confusion_report(np.eye(5, dtype=int) * 4, None, five)
    assert not _confusion_tables({k: five / k for k in small["files"]})  # 5 classes: image only


def test_confusion_figure_writes_names_verbatim_and_the_counts_of_non_empty_cells():
    names = ["$5 bill", "NUM:money", "pos"]
    counts = np.array([[5, 1, 0], [0, 7, 2], [3, 0, 9]])
    fig = confusion_figure(counts, names)
    drawn = [c.get_label() for c in fig.axes[0].collections]
    assert names == drawn[1].split("\n") == drawn[2].split("\n")  # rows, then columns
    assert sorted(drawn[3].split("\n")) == ["1", "2", "3", "5", "7", "9"]  # no zero cell
    assert fig.axes[1].get_ylabel() == "share of the true class's items"  # the colour bar
