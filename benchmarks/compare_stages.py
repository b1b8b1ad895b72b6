"""Benchmark: seconds of every evaluation stage of ``compare``, before and after, per encoder.

Data: a 10,000-text, 54-class set built from ``../shared/data/senteval``: all of TREC
(5,452 train + 500 test questions, the 50 fine labels, e.g. ``LOC:city``) plus 4,048
sentences drawn (seed 0) from MR (pos/neg) and SUBJ (subjective/objective), labelled
``MR:pos`` etc.: many classes, short texts, as issue 16 asks.

Encoders: ``tfidf`` (4,096-d), ``lsa:256`` and ``minilm`` (384-d), each embedded once
into ``--work`` (reused on rerun). Then, in each of ``--rounds`` rounds: MiniLM embeds
the whole set again into a temporary folder (timed: the budget every encoder's
evaluation is measured against, measured in the same run because other engineers load
the same CPU), and every stage of ``compare``'s evaluation (inspect with its geometry,
linear, kNN, k-means, MTEB, LogME, label efficiency at budgets 1, 2, 5, 10, all x 5
repeats; ``probe-setup`` is the rest of ``probe``'s wall time: loading the store, the
split and its CSR view; ``confusion`` the linear probe's confusion figure and tables) runs on the stores with the implementation at ``--before`` (a
``git worktree`` of an older commit, imported in a subprocess through ``PYTHONPATH``)
and with this checkout's. The load average is recorded around each part.

Prints one JSON line per (round, implementation, encoder, stage) with the seconds and
the scores, one per (encoder, stage) with the median ``before_s``, ``after_s`` and
``speedup`` over rounds, and one per encoder with the median total evaluation seconds
against the median MiniLM embedding seconds. Scores of both implementations must agree
within their intervals.

Usage: ``python benchmarks/compare_stages.py --before /tmp/old/src [--work /tmp/cmp]
[--rounds 3]`` (``git worktree add /tmp/old COMMIT`` first; without ``--before`` only
"after" runs). Budget per round: about 1 minute on 2 quiet cores after issue 16 (3 to
10 minutes for the implementation before it), several times that under load.
"""

from __future__ import annotations

import argparse
import csv
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from inspect import signature as inspect_signature
from pathlib import Path

import numpy as np

SHARED = Path(
    os.environ.get(
        "REPRLEARN_SHARED_DATA", Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
    )
)
ENCODERS = ("tfidf", "lsa:256", "minilm")
STAGES = ("inspect", "probe-setup", "linear", "knn", "kmeans", "mteb", "logme", "confusion",
          "label-efficiency")  # fmt: skip


def build_text_set(path: Path, n: int = 10_000, seed: int = 0) -> tuple[int, int]:
    """Write the benchmark's CSV (``text,label``) to ``path``; returns (rows, classes)."""
    from reprlearn import load_dataset

    senteval = SHARED / "senteval"
    rows: list[tuple[str, str]] = []
    for split in ("train", "test"):
        ds = load_dataset(str(senteval / "TREC"), split=split, fine_labels=True)
        names = ds.features["label"].names
        rows += [(t, names[y]) for t, y in zip(ds["text"], ds["label"], strict=True)]
    extra = [("MR", "rt-polarity.pos"), ("MR", "rt-polarity.neg"),
             ("SUBJ", "subj.subjective"), ("SUBJ", "subj.objective")]  # fmt: skip
    rest, rng = n - len(rows), np.random.default_rng(seed)
    for i, (folder, name) in enumerate(extra):
        lines = (senteval / folder / name).read_bytes().decode("latin-1").splitlines()
        take = rest // len(extra) + (1 if i < rest % len(extra) else 0)
        for j in rng.choice(len(lines), take, replace=False):
            rows.append((lines[j].strip(), f"{folder}:{name.rsplit('.', 1)[-1]}"))
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "label"])
        writer.writerows(rows)
    return len(rows), len({label for _, label in rows})


def embed_all(work: Path) -> dict[str, float]:
    """Embed the CSV with each encoder (cached); returns embedding seconds per encoder."""
    from reprlearn import embed, load_dataset
    from reprlearn.encoders import load_encoder
    from reprlearn.store import EmbeddingStore

    data = work / "text10k.csv"
    if not data.exists():
        build_text_set(data)
    seconds = {}
    for name in ENCODERS:
        folder = work / "stores" / name.replace(":", "-")
        if (folder / "manifest.json").exists():
            store = EmbeddingStore.open(folder)
        else:
            ds = load_dataset(str(data))
            store = embed(ds, load_encoder(name), folder, progress=False)
        timing = store.manifest.get("timing", {})
        seconds[name] = float(timing.get("seconds") or store.num_items / timing["items_per_s"])
    return seconds


def embed_minilm_seconds(work: Path) -> float:
    """Seconds MiniLM takes to embed the whole CSV now (into a temporary folder)."""
    from reprlearn import embed, load_dataset
    from reprlearn.encoders import load_encoder

    ds = load_dataset(str(work / "text10k.csv"))
    encoder = load_encoder("minilm")
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        embed(ds, encoder, Path(tmp) / "minilm", progress=False)
        return time.perf_counter() - start


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def run_stages(work: Path, seed: int = 0) -> list[dict]:
    """Time every evaluation stage of ``compare`` on each store with the importable
    reprlearn (as ``compare._evaluate`` calls them); returns one row per stage.

    The first row is a once-per-process cost that belongs to no encoder, timed apart:
    ``torch._dynamo``'s import (1.0-1.4 s), which the first ``torch.optim`` optimizer of
    a process triggers (the linear probe's L-BFGS; in ``compare`` MiniLM's embedding
    already imports it). Before, it fell into the first encoder's linear probe."""
    from reprlearn.analysis.confusion import confusion_report
    from reprlearn.analysis.inspect import inspect
    from reprlearn.evaluation.probe import probe
    from reprlearn.report.compare import _label_efficiency, _Plan
    from reprlearn.store import EmbeddingStore

    start = time.perf_counter()
    import torch._dynamo  # noqa: F401  (see below)

    rows = [{"encoder": None, "stage": "process-warm-up", "s": time.perf_counter() - start}]
    pauses = _GCPauses()
    for name in ENCODERS:
        pauses.total = 0.0
        store = EmbeddingStore.open(work / "stores" / name.replace(":", "-"))
        out = work / "inspect" / name.replace(":", "-")
        out.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        seen = inspect(store, out, sample=20, projection="pca", seed=seed)
        rows.append({"encoder": name, "stage": "inspect", "s": time.perf_counter() - start,
                     "scores": {"effective_rank": seen.geometry.effective_rank,
                                "uniformity": seen.geometry.uniformity,
                                "agreement": seen.agreement}})  # fmt: skip
        start = time.perf_counter()
        result = probe(store, ["linear", "knn", "kmeans", "mteb", "logme"], seed=seed)
        setup = time.perf_counter() - start - sum(result.seconds.values())
        rows.append({"encoder": name, "stage": "probe-setup", "s": setup, "scores": {}})
        for stage, s in result.seconds.items():
            rows.append({"encoder": name, "stage": stage, "s": s,
                         "scores": _scores(result.results[stage])})  # fmt: skip
        start = time.perf_counter()  # compare draws it from the linear probe's matrix
        confusion_report(result.results["linear"].confusion, store.label_names, out)
        rows.append({"encoder": name, "stage": "confusion", "s": time.perf_counter() - start})
        plan = _Plan(("label-efficiency",), [1, 2, 5, 10, "all"], 5, 20, "pca", "auto",
                     "auto", seed, False)  # fmt: skip
        start = time.perf_counter()
        reuse = len(inspect_signature(_label_efficiency).parameters) > 3  # after: as compare
        le = _label_efficiency(store, None, plan, *([result.results["linear"]] if reuse else []))
        rows.append({"encoder": name, "stage": "label-efficiency",
                     "s": time.perf_counter() - start,
                     "scores": {str(b): a["value"] for b, a in
                                zip(le["budgets"], le["accuracy"], strict=True)}})  # fmt: skip
        rows.append({"encoder": name, "stage": "gc-pauses", "s": pauses.total})
    return rows


class _GCPauses:
    """Seconds the Python garbage collector paused the process (``gc.callbacks``): part of
    the stages' times, not added to them; reported so a stage that a full collection of
    earlier garbage fell into (0.2-0.3 s) reads as that, not as slower code."""

    def __init__(self) -> None:
        self.total, self._start = 0.0, None
        gc.callbacks.append(self)

    def __call__(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        elif self._start is not None:
            self.total += time.perf_counter() - self._start
            self._start = None


def _scores(result) -> dict | float:
    if isinstance(result, float):
        return result
    data = result.to_dict()
    keep = ("accuracy", "v_measure", "nmi", "ari", "f1", "macro_f1")
    return {k: data[k] for k in keep if k in data}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--before", help="src folder of the old implementation")
    parser.add_argument("--work", default="/tmp/reprlearn-compare-stages")
    parser.add_argument("--rounds", type=int, default=1, help="rounds; medians are reported")
    parser.add_argument("--stages-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    work = Path(args.work)
    if args.stages_only:  # the subprocess: print the rows of the importable reprlearn
        print(json.dumps(run_stages(work)))
        return
    work.mkdir(parents=True, exist_ok=True)
    import torch._dynamo  # noqa: F401  (once per process, as in run_stages: not timed)

    embed_seconds = embed_all(work)
    print(json.dumps({"embed_seconds_cached_stores": embed_seconds,
                      "data": str(work / "text10k.csv")}))  # fmt: skip
    impls = {"after": str(Path(__file__).resolve().parents[1] / "src")}
    if args.before:
        impls = {"before": args.before, **impls}
    rows: dict[str, list[list[dict]]] = {label: [] for label in impls}
    minilm: list[float] = []
    for round_ in range(args.rounds):
        load = _load()
        minilm.append(embed_minilm_seconds(work))
        print(json.dumps({"round": round_, "minilm_embed_s": round(minilm[-1], 2),
                          "load_before": load, "load_after": _load()}))  # fmt: skip
        for label, src in impls.items():
            env = {**os.environ, "PYTHONPATH": src}
            load = _load()
            done = subprocess.run([sys.executable, __file__, "--work", str(work),
                                   "--stages-only"], env=env, check=True,
                                  capture_output=True, text=True)  # fmt: skip
            rows[label].append(json.loads(done.stdout.strip().splitlines()[-1]))
            print(json.dumps({"round": round_, "impl": label, "load_before": load,
                              "load_after": _load()}))  # fmt: skip
            for row in rows[label][-1]:
                print(json.dumps({"round": round_, "impl": label, **row}, default=float))
    embed_s = statistics.median(minilm)
    print(json.dumps({"process_warm_up_s": {label: round(statistics.median(
        _seconds(r, None, "process-warm-up") for r in runs), 2) for label, runs in rows.items()}}))  # fmt: skip
    for name in ENCODERS:
        medians = {label: {stage: statistics.median(_seconds(r, name, stage) for r in runs)
                           for stage in STAGES} for label, runs in rows.items()}  # fmt: skip
        if "before" in rows:
            for stage in STAGES:
                b, a = medians["before"][stage], medians["after"][stage]
                print(json.dumps({"encoder": name, "stage": stage, "before_s": round(b, 2),
                                  "after_s": round(a, 2), "speedup": round(b / a, 1)}))  # fmt: skip
        totals = {label: statistics.median(sum(_seconds(r, name, st) for st in STAGES)
                                           for r in runs) for label, runs in rows.items()}  # fmt: skip
        print(json.dumps({"encoder": name, **{f"eval_{k}_s": round(v, 1) for k, v in totals.items()},
                          "minilm_embed_s": round(embed_s, 1), "rounds": args.rounds,
                          "gc_pauses_inside_s": {label: round(statistics.median(_seconds(
                              r, name, "gc-pauses") for r in runs), 2) for label, runs in
                              rows.items()},
                          "eval_after_over_minilm_embed": round(totals["after"] / embed_s, 2)}))  # fmt: skip


def _seconds(rows: list[dict], encoder: str | None, stage: str) -> float:
    return next(r["s"] for r in rows if r["encoder"] == encoder and r["stage"] == stage)


if __name__ == "__main__":
    main()
