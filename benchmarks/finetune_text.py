"""MiniLM on TREC / SST2: freeze vs partial (top 2 layers) vs full vs lp-ft, next to a tuned
scikit-learn ``LogisticRegression`` on the frozen features (C searched on the validation split).

Uses the offline all-MiniLM-L6-v2 (``minilm``), the datasets' own train -> test split, and
a seeded stratified subset of the training set (``--train N``) and of the test set
(``--test N``) to fit the CPU budget. Each fine-tuning strategy gets the same epochs, batch
size and learning rates; accuracy with its 95% bootstrap interval, wall time (s) and peak
RSS (MiB) are printed as one JSON line per (dataset, method).

Budget on 2 shared CPU cores: about 10 minutes with the defaults
(``--train 600 --test 500 --epochs 2``).

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/finetune_text.py --datasets TREC
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import datasets
import numpy as np

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "senteval"


def subset(ds: datasets.Dataset, n: int | None, seed: int) -> datasets.Dataset:
    if n is None or n >= ds.num_rows:
        return ds
    from sklearn.model_selection import train_test_split

    idx, _ = train_test_split(np.arange(ds.num_rows), train_size=n, random_state=seed,
                              stratify=np.asarray(ds["label"]))  # fmt: skip
    return ds.select(np.sort(idx))


def load(name: str, n_train: int | None, n_test: int | None, seed: int):
    from reprlearn.data.load import load_dataset

    folder = DATA / name
    train = load_dataset(str(folder), split="train")
    test = load_dataset(str(folder), split="test")
    return subset(train, n_train, seed), subset(test, n_test, seed)


def tuned_logreg(train, test, seed: int) -> dict:
    """LogisticRegression on frozen MiniLM features, C searched on a 10% validation split."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split

    from reprlearn.embed import encode_items
    from reprlearn.evaluation.statistics import accuracy_with_ci

    t0 = time.perf_counter()
    X = encode_items("minilm", train["text"])
    Xt = encode_items("minilm", test["text"])
    y, yt = np.asarray(train["label"]), np.asarray(test["label"])
    tr, va = train_test_split(np.arange(len(y)), test_size=0.1, random_state=seed, stratify=y)
    grid = [0.01, 0.1, 1, 10, 100, 1000]
    scores = [LogisticRegression(C=c, max_iter=2000).fit(X[tr], y[tr]).score(X[va], y[va])
              for c in grid]  # fmt: skip
    best = grid[int(np.argmax(scores))]
    clf = LogisticRegression(C=best, max_iter=2000).fit(X, y)
    acc = accuracy_with_ci(yt, clf.predict(Xt))
    return {"method": f"sklearn LogisticRegression (frozen, C={best} tuned)", "accuracy": acc.value,
            "ci_low": acc.ci_low, "ci_high": acc.ci_high, "seconds": time.perf_counter() - t0,
            "trainable_params": int(X.shape[1] * (len(set(y)) if len(set(y)) > 2 else 1))}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--datasets", default="TREC,SST2")
    ap.add_argument("--strategies", default="freeze,partial,full,lp-ft")
    ap.add_argument("--train", type=int, default=600)
    ap.add_argument("--test", type=int, default=500)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    from reprlearn.adapt.finetune import finetune

    for name in args.datasets.split(","):
        train, test = load(name, args.train, args.test, args.seed)
        base = {"dataset": name, "n_train": train.num_rows, "n_test": test.num_rows}
        print(json.dumps({**base, **tuned_logreg(train, test, args.seed)}), flush=True)
        for strategy in args.strategies.split(","):
            out = Path(tempfile.mkdtemp()) / strategy
            r = finetune(train, "minilm", strategy=strategy, test=test, out=out, unfreeze=2,
                         epochs=args.epochs, lp_epochs=30, batch_size=args.batch_size,
                         lr=args.lr, backbone_lr_mult=0.05, seed=args.seed, progress=False)  # fmt: skip
            print(json.dumps({**base, "method": f"reprlearn {strategy}",
                              "accuracy": r.accuracy.value, "ci_low": r.accuracy.ci_low,
                              "ci_high": r.accuracy.ci_high, "seconds": r.seconds,
                              "peak_rss_mb": r.peak_memory_mb,
                              "trainable_params": r.trainable_params,
                              "feature_cka": r.feature_cka, "epochs": args.epochs}), flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
