"""Benchmark: seconds of the SentEval protocol (``reprlearn probe STORE --protocol senteval``),
before and after, on real SentEval sets with a sparse and a dense encoder.

The protocol is SentEval's own (``senteval/tools/validation.py``, scikit-learn logistic
regression): 610 fits for a set without a test split (10 outer x 6 C x 10 inner folds +
10 refits, ``InnerKFoldClassifier``), 71 for one with (7 C x 10 folds + 1 refit,
``KFoldClassifier``). Sets (``../shared/data/senteval``):

* ``TREC``: 5,452 training questions, 500 test questions, 6 coarse classes (short texts,
  fixed split; the test store is embedded with the training store's fitted encoder);
* ``SUBJ``: subjective/objective sentences, 2 classes (longer texts; 10-fold inner CV),
  ``--rows`` drawn at random (seed 0; 0 = all 10,000).

Encoders: ``tfidf`` (4,096-d, mostly-zero rows) and ``minilm`` (384-d), each embedded
once into ``--work`` (reused on rerun). For every (set, encoder), ``probe`` runs with the
implementation at ``--before`` (a ``git worktree`` of an older commit, imported in a
subprocess through ``PYTHONPATH``) and with this checkout's, alternating over ``--rounds``.

Prints one JSON line per run (seconds, test accuracy and its std over folds, chosen C,
load average) and one per (set, encoder) with the median seconds, the speed-up, and
whether the after accuracy lies within the before's spread (std over folds for SUBJ; the
95% Wilson interval of the 500 test questions for TREC).

Usage: ``python benchmarks/senteval_speed.py --before /tmp/old/src [--rows 2000]
[--rounds 1] [--sets TREC,SUBJ] [--encoders tfidf,minilm]``. Budget: the implementation
before issue 16's SentEval change took 10-30 minutes for the default sets on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

SHARED = Path(
    os.environ.get(
        "REPRLEARN_SHARED_DATA", Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
    )
)


def stores(work: Path, name: str, encoder: str, rows: int) -> tuple[Path, Path | None]:
    """Embed set ``name`` with ``encoder`` into ``work`` (cached); returns (store, test store)."""
    from reprlearn import embed, load_dataset
    from reprlearn.encoders import load_encoder

    tag = f"{name}-{rows}" if name != "TREC" else name
    folder = work / f"{tag}-{encoder}"
    test_folder = work / f"{tag}-{encoder}-test" if name == "TREC" else None
    if not (folder / "manifest.json").exists():
        if name == "TREC":
            ds = load_dataset(str(SHARED / "senteval" / "TREC"), split="train")
        else:
            ds = load_dataset(str(SHARED / "senteval" / name))
            if rows and rows < len(ds):
                ds = ds.select(np.sort(np.random.default_rng(0).choice(len(ds), rows, False)))
        embed(ds, load_encoder(encoder), folder, progress=False)
    if test_folder is not None and not (test_folder / "manifest.json").exists():
        ds = load_dataset(str(SHARED / "senteval" / "TREC"), split="test")
        embed(ds, load_encoder(f"store:{folder}"), test_folder, progress=False)
    return folder, test_folder


def run_probe(store: str, test: str | None) -> dict:
    """``probe(store, "senteval", test=test)`` with the importable reprlearn; timed."""
    from reprlearn import probe

    start = time.perf_counter()
    result = probe(store, "senteval", test=test)
    seconds = time.perf_counter() - start
    se = result.results["senteval"]
    return {"s": seconds, "accuracy": se.test.value, "std": se.test.std, "n": se.test.n,
            "chosen_C": se.chosen_C, "dev": se.dev}  # fmt: skip


def _within(before: dict, after: dict) -> bool:
    """After's accuracy inside before's spread: the std over folds, or (one test set) the
    95% Wilson interval of before's accuracy on its ``n`` items."""
    if before["std"] is not None:
        return bool(abs(after["accuracy"] - before["accuracy"]) <= before["std"])
    p, n, z = before["accuracy"], before["n"], 1.96
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return bool(abs(after["accuracy"] - centre) <= half)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--before", help="src folder of the old implementation")
    parser.add_argument("--work", default="/tmp/reprlearn-senteval-speed")
    parser.add_argument("--rows", type=int, default=2000, help="SUBJ rows (0 = all)")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--sets", default="TREC,SUBJ")
    parser.add_argument("--encoders", default="tfidf,minilm")
    parser.add_argument("--probe-only", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.probe_only:  # the subprocess: one timed probe with the importable reprlearn
        store, test = args.probe_only
        print(json.dumps(run_probe(store, None if test == "-" else test)))
        return
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    impls = {"after": str(Path(__file__).resolve().parents[1] / "src")}
    if args.before:
        impls = {"before": args.before, **impls}
    for name in args.sets.split(","):
        for encoder in args.encoders.split(","):
            store, test = stores(work, name, encoder, args.rows)
            runs: dict[str, list[dict]] = {label: [] for label in impls}
            for round_ in range(args.rounds):
                for label, src in impls.items():
                    load = [round(x, 2) for x in os.getloadavg()]
                    done = subprocess.run(
                        [sys.executable, __file__, "--probe-only", str(store), str(test or "-")],
                        env={**os.environ, "PYTHONPATH": src}, check=True, capture_output=True,
                        text=True)  # fmt: skip
                    row = json.loads(done.stdout.strip().splitlines()[-1])
                    runs[label].append(row)
                    print(json.dumps({"set": name, "encoder": encoder, "round": round_,
                                      "impl": label, "load": load, **row}), flush=True)  # fmt: skip
            summary = {"set": name, "encoder": encoder, "rounds": args.rounds}
            for label, rows in runs.items():
                summary[f"{label}_s"] = round(statistics.median(r["s"] for r in rows), 1)
            if "before" in runs:
                summary["speedup"] = round(summary["before_s"] / summary["after_s"], 1)
                summary["accuracy_before_after"] = [runs["before"][0]["accuracy"],
                                                    runs["after"][0]["accuracy"]]  # fmt: skip
                summary["within_spread"] = _within(runs["before"][0], runs["after"][0])
            print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
