"""The neighbours themselves are shown (issue 10 part 6): a contact sheet of each sampled
item beside its nearest neighbours, and their texts in the report's neighbour table."""

from __future__ import annotations

import numpy as np
from PIL import Image

import reprlearn
from reprlearn.report.compare import compare


def test_inspect_draws_image_neighbours_as_thumbnails(tmp_path):
    ds = reprlearn.load_dataset("digits")
    store = reprlearn.embed(ds, "pca:16", out=tmp_path / "s", progress=False)
    result = reprlearn.inspect(store, tmp_path / "i", sample=6, k=3)
    sheet = Image.open(result.files["neighbors.png"]).convert("L")
    pixels = np.asarray(sheet)
    assert sheet.width > 500 and sheet.height > 600  # 6 rows of 1 + 3 tiles
    assert (pixels < 60).mean() > 0.05  # the digits' black backgrounds are drawn


def test_report_neighbour_rows_show_the_neighbour_texts(tmp_path):
    rows = ["text,label"]
    for i in range(30):
        rows.append(f"the train leaves the station at {i} today,travel")
        rows.append(f"bake the bread with {i} grams of flour,cooking")
    (tmp_path / "t.csv").write_text("\n".join(rows) + "\n")
    result = compare(str(tmp_path / "t.csv"), ["tfidf"], tmp_path / "r", protocols="linear",
                     progress=False)  # fmt: skip
    report = result.ranking[0]
    assert "neighbors" in report.files
    first = report.neighbor_examples[0]["neighbors"]
    assert "grams of flour" in first or "leaves the station" in first
    html = (tmp_path / "r" / "report.html").read_text()
    assert "each row an item, then its neighbours" in html
