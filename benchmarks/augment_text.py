"""EDA on small training sets (issue 9): SST2 and MR subsets of 500 / 2,000 training
sentences, MiniLM ``finetune --strategy freeze`` (and ``full`` on the smallest when the
budget allows) with and without ``--augment-text eda`` (n = 4, alpha = 0.1, the defaults),
3 seeds, on a fixed test set of each dataset.

The EDA paper (Wei & Zou 2019, Table 2) reports +3.0 points at N = 500 for RNN/CNN
classifiers trained from scratch and smaller gains for pretrained models; this measures
what it buys a frozen pretrained sentence encoder, with no tuning towards a number.

Every run is the product path (``reprlearn.finetune`` on a Dataset, EDA rows joining the
training split only; 10% of the N sentences are finetune's validation split; the freeze
head trains with batch 128 to keep the step count, and the wall time, small). Prints one JSON line per run, then one per (dataset, N, strategy):
mean/std accuracy without and with EDA and the difference (the "peer" is the same run
without EDA). Runs are ordered cheapest first and stop when ``--budget-s`` is spent;
what was left out is printed as a JSON line.

Budget: ``--budget-s 900`` (15 min) of wall time on 2 shared CPU cores; on an idle machine
N = 500 and 2,000 x 2 datasets x 3 seeds fit, on a loaded one fewer.

    .venv/bin/python benchmarks/augment_text.py --budget-s 900 --out /tmp/bench-eda
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np


def _stratified(labels: np.ndarray, n: int, seed: int, exclude=()) -> np.ndarray:
    """``n`` row indices with the label proportions of ``labels`` (seeded)."""
    from sklearn.model_selection import train_test_split

    pool = np.setdiff1d(np.arange(len(labels)), np.asarray(exclude, dtype=np.int64))
    if n >= len(pool):
        return pool
    picked, _ = train_test_split(pool, train_size=n, random_state=seed, stratify=labels[pool])
    return np.sort(picked)


def datasets_for(shared: Path, test_n: int):
    """{name: (train pool Dataset, test Dataset)}: SST2's train/test files; MR with a fixed
    stratified ``test_n`` holdout (seed 0)."""
    from reprlearn.data import load_dataset

    sst_train = load_dataset(str(shared / "senteval/SST2/sentiment-train"))
    sst_test = load_dataset(str(shared / "senteval/SST2/sentiment-test"))
    sst_test = sst_test.select(_stratified(np.asarray(sst_test["label"]), test_n, 0))
    mr = load_dataset(str(shared / "senteval/MR"))
    held = _stratified(np.asarray(mr["label"]), test_n, 0)
    rest = np.setdiff1d(np.arange(mr.num_rows), held)
    return {"sst2": (sst_train, sst_test), "mr": (mr.select(rest), mr.select(held))}


_ENCODER: list = []


def _frozen_minilm():
    if not _ENCODER:
        from reprlearn.encoders import load_encoder

        _ENCODER.append(load_encoder("minilm"))
    return _ENCODER[0]


def run_one(pool, test, *, dataset, n, seed, strategy, eda, out: Path) -> dict:
    import reprlearn

    train = pool.select(_stratified(np.asarray(pool["label"]), n, seed))
    name = f"{dataset}-n{n}-{strategy}-{'eda' if eda else 'none'}-s{seed}"
    t0 = time.perf_counter()
    # freeze never changes the backbone: one loaded MiniLM serves every freeze run
    encoder = _frozen_minilm() if strategy == "freeze" else "minilm"
    r = reprlearn.finetune(
        train, encoder, strategy=strategy, test=test, out=out / name, seed=seed,
        augment_text="eda" if eda else None, augment_text_n=4, augment_text_alpha=0.1,
        epochs=3, batch_size=128 if strategy == "freeze" else 32,
        lr=1e-3 if strategy == "freeze" else 2e-4,
        overwrite=True, progress=False,
    )  # fmt: skip
    return {"dataset": dataset, "n_train": n, "strategy": strategy, "eda": eda, "seed": seed,
            "accuracy": round(r.accuracy.value, 4), "n_train_rows": r.n_train,
            "n_test": r.n_test, "seconds": round(time.perf_counter() - t0, 1)}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shared", default=None, help="shared data folder (default ../shared/data)")
    ap.add_argument("--out", default="/tmp/bench-augment-text")
    ap.add_argument("--sizes", default="500,2000")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--datasets", default="sst2,mr")
    ap.add_argument("--test-n", type=int, default=500)
    ap.add_argument("--budget-s", type=float, default=900.0)
    ap.add_argument("--full", action="store_true", help="also full fine-tuning at the smallest N")
    args = ap.parse_args()
    import os

    shared = Path(args.shared or os.environ.get("REPRLEARN_SHARED_DATA", "../shared/data"))
    data = datasets_for(shared, args.test_n)
    sizes = [int(s) for s in args.sizes.split(",")]
    seeds = [int(s) for s in args.seeds.split(",")]
    plan = [(n, ds, strat, seed, eda) for n in sizes for strat in ("freeze",) for seed in seeds
            for ds in data for eda in (False, True) if ds in args.datasets.split(",")]  # fmt: skip
    if args.full:
        plan += [(sizes[0], ds, "full", seed, eda) for seed in seeds for ds in data
                 for eda in (False, True)]  # fmt: skip
    t0, rows, skipped = time.perf_counter(), [], []
    for n, ds, strat, seed, eda in plan:
        if time.perf_counter() - t0 > args.budget_s:
            skipped.append(f"{ds} n={n} {strat} seed={seed} eda={eda}")
            continue
        row = run_one(*data[ds], dataset=ds, n=n, seed=seed, strategy=strat, eda=eda,
                      out=Path(args.out))  # fmt: skip
        rows.append(row)
        print(json.dumps(row), flush=True)
    groups: dict = {}
    for r in rows:
        groups.setdefault((r["dataset"], r["n_train"], r["strategy"]), {}).setdefault(r["eda"], {})[
            r["seed"]
        ] = r["accuracy"]
    for (ds, n, strat), by in groups.items():
        common = sorted(set(by.get(False, {})) & set(by.get(True, {})))
        if not common:
            continue
        base = [by[False][s] for s in common]
        eda = [by[True][s] for s in common]
        diff = [e - b for e, b in zip(eda, base, strict=True)]
        sd = lambda x: round(statistics.stdev(x), 4) if len(x) > 1 else None  # noqa: E731
        print(json.dumps({"summary": True, "dataset": ds, "n_train": n, "strategy": strat,
                          "seeds": common, "accuracy_none": round(statistics.mean(base), 4),
                          "std_none": sd(base), "accuracy_eda": round(statistics.mean(eda), 4),
                          "std_eda": sd(eda), "eda_minus_none": round(statistics.mean(diff), 4),
                          "std_diff": sd(diff)}))  # fmt: skip
    print(json.dumps({"seconds": round(time.perf_counter() - t0, 1), "budget_s": args.budget_s,
                      "skipped": skipped}))  # fmt: skip


if __name__ == "__main__":
    main()
