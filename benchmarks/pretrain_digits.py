"""Label efficiency on sklearn digits: pixels, PCA and self-supervised encoders.

Pretrains SimCLR, VICReg and BYOL (small CNN, the ``digits`` augmentation recipe) on the
training part of digits (labels unused), then fits a linear probe (standardised features,
``LogisticRegression``) on 1, 2, 5, 10 labelled examples per class and on all training
labels, and measures accuracy on a fixed held-out test split (30 %, stratified, seed 0).
Mean +- std over ``--repeats`` random draws of the labelled examples.

Encoders: ``pixels`` (the 64 pixel values / 16), ``pca:32`` (scikit-learn PCA fitted on the
training images), and ``ckpt:`` encoders of the three pretraining runs.

    .venv/bin/python benchmarks/pretrain_digits.py --epochs 40 --out runs/bench-digits

Prints a table and one JSON line per (encoder, labels per class).
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

import numpy as np
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

METHODS = {
    "simclr": {"temperature": 0.2},
    "vicreg": {"expander_dim": 512},
    "byol": {"proj_hidden": 512, "proj_out": 128},
}
SHOTS = (1, 2, 5, 10, None)  # None: all training labels


def probe_accuracy(xtr, ytr, xte, yte, shots, seed) -> float:
    """Linear probe trained on ``shots`` random examples per class (all when None)."""
    rng = np.random.default_rng(seed)
    if shots is None:
        idx = np.arange(len(ytr))
    else:
        idx = np.concatenate([rng.choice(np.flatnonzero(ytr == c), shots, replace=False)
                              for c in np.unique(ytr)])  # fmt: skip
    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, C=1.0))
    clf.fit(xtr[idx], ytr[idx])
    return float((clf.predict(xte) == yte).mean())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument("--lr", type=float, default=None)
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--methods", default="simclr,vicreg,byol")
    ap.add_argument("--out", default="runs/bench-digits")
    ap.add_argument("--precision", default="auto")
    ap.add_argument("--reuse", action="store_true", help="reuse finished runs in --out")
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    args = ap.parse_args()
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)

    from reprlearn.data import load_dataset
    from reprlearn.encoders import load_encoder
    from reprlearn.training.pretrain import pretrain

    ds = load_dataset("digits")
    y = np.asarray(ds["label"])
    tr, te = train_test_split(np.arange(len(y)), test_size=0.3, stratify=y, random_state=0)
    images = list(ds["image"])
    pixels = np.stack([np.asarray(im, dtype=np.float32).ravel() for im in images]) / 255
    features = {"pixels": pixels}
    pca = PCA(32, random_state=0).fit(pixels[tr])
    features["pca:32"] = pca.transform(pixels)
    timings = {}
    for method in args.methods.split(","):
        out = Path(args.out) / method
        if not (args.reuse and (out / "config.json").exists()):
            shutil.rmtree(out, ignore_errors=True)
            t0 = time.perf_counter()
            result = pretrain(ds.select(tr.tolist()), method=method, out=out, epochs=args.epochs,
                              batch_size=args.batch_size, lr=args.lr, precision=args.precision,
                              method_options=METHODS[method], progress=False)  # fmt: skip
            timings[method] = {"seconds": time.perf_counter() - t0,
                               "knn_top1": result.final.get("knn_top1"),
                               "effective_rank": result.final.get("effective_rank")}  # fmt: skip
            print(json.dumps({"pretrain": method, **timings[method]}), flush=True)
        features[method] = load_encoder(f"ckpt:{out}").encode(images)
    rows = []
    for name, x in features.items():
        for shots in SHOTS:
            reps = 1 if shots is None else args.repeats
            accs = [probe_accuracy(x[tr], y[tr], x[te], y[te], shots, s) for s in range(reps)]
            row = {"encoder": name, "labels_per_class": shots or "all",
                   "mean": float(np.mean(accs)), "std": float(np.std(accs)), "repeats": reps}  # fmt: skip
            rows.append(row)
            print(json.dumps(row), flush=True)
    print_table(rows)


def print_table(rows) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="digits: linear-probe accuracy (%) vs labels per class, mean +- std")
    table.add_column("encoder")
    shots = list(dict.fromkeys(r["labels_per_class"] for r in rows))
    for s in shots:
        table.add_column(str(s), justify="right")
    for enc in dict.fromkeys(r["encoder"] for r in rows):
        cells = {r["labels_per_class"]: r for r in rows if r["encoder"] == enc}
        table.add_row(enc, *[f"{100 * cells[s]['mean']:.1f} +- {100 * cells[s]['std']:.1f}"
                             for s in shots])  # fmt: skip
    Console().print(table)


if __name__ == "__main__":
    main()
