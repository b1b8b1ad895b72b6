"""Benchmark: seconds to draw each of ``inspect``'s three PNGs, before and after (issue 16).

Figures: ``neighbors.png`` (:func:`reprlearn.search.contact_sheet.contact_sheet`, 16
rows x 6 cells), ``similarity.png`` (:func:`reprlearn.analysis.plots.similarity_heatmap`,
20 x 20 with texts) and ``map.png`` (:func:`reprlearn.analysis.plots.projection_scatter`,
10,000 points, 54 classes).

Data: the arguments ``inspect(store, sample=20, projection="pca", seed=0)`` passes to
the three functions, recorded (nothing drawn) on the real stores of
``benchmarks/compare_stages.py`` (``--stores /tmp/cmp/stores``, encoders ``minilm``,
``tfidf``, ``lsa-256``: a 10,000-text, 54-class TREC + MR + SUBJ set). When that folder
is absent, synthetic inputs of the same size: 20 x 20 cosines with 30-word texts, 16
rows x 6 cells of TREC-length questions, 10,000 points of 54 Gaussian classes.

Before = the two modules at ``--before`` (default ``94cc5a4``, the commit before the
faster drawing), read with ``git show`` and imported under another name in the same
process; after = this checkout. Each figure is drawn ``--repeats`` times (default 5)
by each implementation, alternately, into a temporary folder; the median counts.

Prints one JSON line per (store, figure): ``before_s``, ``after_s`` (medians),
``speedup`` and the PNG sizes in bytes, and a last line with the total per store.

Usage: ``python benchmarks/figures.py [--stores /tmp/cmp/stores] [--names minilm,tfidf]
[--repeats 5] [--before 94cc5a4] [--out DIR]`` (``--out`` keeps the last PNG of each
figure and implementation for a look side by side; the stores are those
``benchmarks/compare_stages.py --work /tmp/cmp`` embeds). Budget: about 25 s per store
on 2 cores (about 15 s of it the implementation before, 8 s recording ``inspect``'s
calls); the synthetic fallback with ``--repeats 1``: 7 s.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import types
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OLD_MODULES = {
    "contact_sheet": "src/reprlearn/search/contact_sheet.py",
    "plots": "src/reprlearn/analysis/plots.py",
}


def old_module(name: str, rev: str) -> types.ModuleType:
    """The module ``OLD_MODULES[name]`` as it was at git revision ``rev``."""
    source = subprocess.run(["git", "show", f"{rev}:{OLD_MODULES[name]}"], cwd=ROOT,
                            check=True, capture_output=True, text=True).stdout  # fmt: skip
    module = types.ModuleType(f"before_{name}")
    module.__file__ = f"<{rev}:{OLD_MODULES[name]}>"
    sys.modules[module.__name__] = module
    exec(compile(source, module.__file__, "exec"), module.__dict__)
    return module


def recorded_calls(store_dir: Path) -> dict[str, tuple[tuple, dict]]:
    """The (args, kwargs) of the three drawing calls of ``inspect`` on ``store_dir``."""
    from reprlearn.store import EmbeddingStore

    # import_module: ``reprlearn.search`` is also a lazily exported function's name
    inspect_mod = importlib.import_module("reprlearn.analysis.inspect")
    sheet_mod = importlib.import_module("reprlearn.search.contact_sheet")

    calls: dict[str, tuple[tuple, dict]] = {}

    def recorder(name, position):
        def record(*args, **kwargs):
            calls[name] = (args, kwargs)
            return Path(args[position])

        return record

    saved = (inspect_mod.similarity_heatmap, inspect_mod.projection_scatter,
             sheet_mod.contact_sheet)  # fmt: skip
    inspect_mod.similarity_heatmap = recorder("similarity", 2)
    inspect_mod.projection_scatter = recorder("map", 3)
    sheet_mod.contact_sheet = recorder("neighbors", 2)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            store = EmbeddingStore.open(store_dir)
            inspect_mod.inspect(store, Path(tmp) / "i", sample=20, projection="pca", seed=0)
    finally:
        (inspect_mod.similarity_heatmap, inspect_mod.projection_scatter,
         sheet_mod.contact_sheet) = saved  # fmt: skip
    return calls


def synthetic_calls(seed: int = 0) -> dict[str, tuple[tuple, dict]]:
    """Inputs of the same size as the real stores', for a machine without /tmp/cmp."""
    from reprlearn.search.items import Items

    rng = np.random.default_rng(seed)
    words = [
        "what",
        "is",
        "the",
        "origin",
        "of",
        "word",
        "how",
        "many",
        "people",
        "live",
        "in",
        "city",
        "who",
        "wrote",
        "first",
    ]
    text = lambda k: " ".join(rng.choice(words, size=k)).capitalize() + " ?"  # noqa: E731
    classes = [f"CLS:{i:02d}" for i in range(54)]
    v = rng.normal(size=(20, 64))
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    labels = sorted(rng.choice(classes, size=20).tolist())
    texts = [text(int(rng.integers(5, 30))) for _ in range(20)]
    y = rng.integers(0, 54, size=10_000)
    points = rng.normal(size=(54, 2))[y] + rng.normal(scale=0.7, size=(10_000, 2))
    items = Items("text", {i: text(int(rng.integers(5, 40))) for i in range(96)})
    rows = [[{"id": r * 6 + c, "caption": f"{classes[(r + c) % 54]} · 0.{50 + c}"}
             for c in range(6)] for r in range(20)]  # fmt: skip
    return {
        "similarity": ((v @ v.T, labels, "similarity.png"),
                       {"texts": texts, "title": "Cosine similarity of 20 items · synthetic"}),
        "map": ((points, y, classes, "map.png"),
                {"title": "PCA map of 10,000 items · synthetic", "axis_labels": ("PC 1", "PC 2")}),
        "neighbors": ((rows, items, "neighbors.png", "Nearest neighbours · synthetic"), {}),
    }  # fmt: skip


def draw_functions(before: str):
    plots = importlib.import_module("reprlearn.analysis.plots")
    sheet = importlib.import_module("reprlearn.search.contact_sheet")

    old_plots, old_sheet = old_module("plots", before), old_module("contact_sheet", before)
    return {
        "neighbors": (old_sheet.contact_sheet, sheet.contact_sheet, 2),
        "similarity": (old_plots.similarity_heatmap, plots.similarity_heatmap, 2),
        "map": (old_plots.projection_scatter, plots.projection_scatter, 3),
    }


def time_figure(fn, args, kwargs, position: int, path: Path) -> float:
    args = list(args)
    args[position] = path
    start = time.perf_counter()
    fn(*args, **kwargs)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stores", default="/tmp/cmp/stores")
    parser.add_argument("--names", default="minilm,tfidf,lsa-256")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--before", default="94cc5a4")
    parser.add_argument("--out", help="keep the last PNGs of each implementation here")
    opts = parser.parse_args()
    functions = draw_functions(opts.before)
    stores = Path(opts.stores)
    inputs = (
        [(n, lambda n=n: recorded_calls(stores / n)) for n in opts.names.split(",")]
        if stores.is_dir()
        else [("synthetic", synthetic_calls)]
    )
    tmp = Path(opts.out) if opts.out else Path(tempfile.mkdtemp(prefix="figures-"))
    tmp.mkdir(parents=True, exist_ok=True)
    for name, make in inputs:
        calls = make()
        total = {"before": 0.0, "after": 0.0}
        for figure, (old, new, position) in functions.items():
            args, kwargs = calls[figure]
            seconds: dict[str, list[float]] = {"before": [], "after": []}
            files = {}
            for _ in range(opts.repeats):
                for which, fn in (("before", old), ("after", new)):
                    files[which] = tmp / f"{name}-{figure}-{which}.png"
                    seconds[which].append(time_figure(fn, args, kwargs, position, files[which]))
            med = {k: statistics.median(v) for k, v in seconds.items()}
            total["before"] += med["before"]
            total["after"] += med["after"]
            print(json.dumps({
                "store": name, "figure": f"{figure}.png", "repeats": opts.repeats,
                "before_s": round(med["before"], 3), "after_s": round(med["after"], 3),
                "speedup": round(med["before"] / med["after"], 2),
                "before_bytes": files["before"].stat().st_size,
                "after_bytes": files["after"].stat().st_size,
                "load_avg": round(os.getloadavg()[0], 2),
            }), flush=True)  # fmt: skip
        print(json.dumps({"store": name, "figure": "all three", "before_s": round(total["before"], 3),
                          "after_s": round(total["after"], 3),
                          "speedup": round(total["before"] / total["after"], 2)}), flush=True)  # fmt: skip
    if not opts.out:
        print(textwrap.shorten(f"PNGs left in {tmp}", 200), file=sys.stderr)


if __name__ == "__main__":
    main()
