"""reprlearn's self-contained explorer page: a static site drawn with WebGL.

Why not embedding-atlas here: its embedding view needs WebGPU with the ``shader-f16``
feature, which headless Chromium (SwiftShader) and many machines without a GPU lack;
it then shows "WebGPU is unavailable" and draws no points (see ``explore/atlas.py``).
This page needs only WebGL (WebGL2 or 1, which SwiftShader provides), loads no code
from anywhere else (``explorer.js`` ships with reprlearn) and works from ``file://``.

Files of a site: ``index.html``, ``explorer.js`` (copied from ``static/``),
``data.js`` (``window.REPRLEARN_EXPLORE = {...}``: the table's columns as JSON) and
``table.parquet`` (the same table, for embedding-atlas, pandas or duckdb).
"""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from reprlearn.explore.table import ExploreTable

STATIC = Path(__file__).parent / "static"
SITE_FILES = ("index.html", "explorer.js", "data.js", "table.parquet")


def _flat_coords(frame, x: str, y: str) -> list[float]:
    xy = np.stack([frame[x].to_numpy(), frame[y].to_numpy()], 1).astype(np.float64)
    return np.round(xy.reshape(-1), 5).tolist()


def page_data(table: ExploreTable, title: str) -> dict[str, Any]:
    """The columns the page reads, as JSON-able lists (see ``explorer.js``)."""
    f = table.frame
    names = table.names
    single = len(names) == 1
    data: dict[str, Any] = {"title": title, "k": table.k, "names": names, "id": f["id"].tolist()}
    data["coords"] = {
        n: _flat_coords(f, "x", "y") if single else _flat_coords(f, f"x_{n}", f"y_{n}")
        for n in names
    }
    columns = {n: f["neighbors"] if single else f[f"neighbors_{n}"] for n in names}
    data["neighbors"] = {n: [list(map(int, v["ids"])) for v in col] for n, col in columns.items()}
    data["distances"] = {n: [list(v["distances"]) for v in col] for n, col in columns.items()}
    if f["label"].notna().any():
        label_names = sorted({str(v) for v in f["label"]})
        index = {name: i for i, name in enumerate(label_names)}
        data |= {"label": f["label"].astype(str).tolist(), "label_names": label_names,
                 "label_index": [index[str(v)] for v in f["label"]]}  # fmt: skip
    if "knn_prediction" in f:
        data["knn_prediction"] = f["knn_prediction"].astype(str).tolist()
        data["knn_prediction_index"] = [
            data["label_names"].index(str(v)) if str(v) in data["label_names"] else 0
            for v in f["knn_prediction"]
        ]
        data["knn_correct"] = f["knn_correct"].astype(bool).tolist()
    data["cluster"] = f["cluster"].astype(int).tolist()
    if "agreement" in f:
        data["agreement"] = f["agreement"].astype(float).tolist()
    if "text" in f:
        data["text"] = f["text"].astype(str).tolist()
    if "image" in f:
        data["thumbnail"] = [base64.b64encode(b).decode() for b in f["image"]]
        data["path"] = f["path"].astype(str).tolist()
    return data


def write_site(table: ExploreTable, out: str | Path, title: str) -> Path:
    """Write the page's files (:data:`SITE_FILES`) into the folder ``out``; returns it."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for name in ("index.html", "explorer.js"):
        shutil.copyfile(STATIC / name, out / name)
    payload = json.dumps(page_data(table, title), separators=(",", ":"), ensure_ascii=False)
    tmp = out / ".data.js.tmp"
    tmp.write_text(f"window.REPRLEARN_EXPLORE = {payload};\n", encoding="utf-8")
    tmp.replace(out / "data.js")
    table.to_parquet(out / "table.parquet")
    return out
