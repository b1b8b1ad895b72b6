"""Benchmark: reprlearn's linear and kNN probes against scikit-learn on the same features.

Linear: ``reprlearn.evaluation.linear_probe.LinearProbe`` (torch L-BFGS, float32) vs
``StandardScaler`` + ``sklearn.linear_model.LogisticRegression(C, solver="lbfgs")``
(float64), same C, same ``max_iter`` and ``tol``; both standardise the features.
kNN: reprlearn's DINO kNN (cosine, k=20, votes weighted by exp(sim / 0.07), torch and
faiss backends) vs ``KNeighborsClassifier(k=20, metric="cosine", algorithm="brute",
weights="distance")`` (votes weighted by 1 / cosine distance: a different weighting, so
accuracies may differ slightly; uniform votes are also reported).

Features: CIFAR-10 test pixels (3072-d, a stratified subset), sklearn digits pixels
(64-d), and all-MiniLM-L6-v2 embeddings of SST2 (384-d) when the ``minilm`` encoder
loads, else a 256-d Gaussian random projection of the CIFAR pixels. Each feature set is
split 80/20 (stratified, seed 0), except SST2 (its train subset / its test file).
Times are the best of ``--repeats`` runs after one warm-up fit (the first torch
optimizer in a process imports ``torch._dynamo``, a one-time cost reported as
``ours_cold_s``). Prints one JSON object per line.

Usage: ``python benchmarks/probe.py [--cifar-n 2000] [--sst2-n 2000] [--C 0.01] [--device auto]``
(C=0.01: on raw 3072-d pixels larger C needs hundreds more L-BFGS iterations in both.)
The MiniLM embeddings are cached in ``$TMPDIR/reprlearn-bench``.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier
from sklearn.preprocessing import StandardScaler

from reprlearn.evaluation.knn import KNNProbe
from reprlearn.evaluation.linear_probe import LinearProbe

SHARED = Path(
    os.environ.get(
        "REPRLEARN_SHARED_DATA", Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
    )
)


def best_time(fn: Callable[[], object], repeats: int) -> tuple[float, object]:
    """Best wall time in seconds over ``repeats`` calls, and the last call's result."""
    best, out = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def cifar_pixels(n: int) -> tuple[np.ndarray, np.ndarray] | None:
    """A stratified subset of ``n`` CIFAR-10 test images as float32 (n, 3072) in [0, 1]."""
    path = SHARED / "cifar10" / "test.parquet"
    if not path.is_file():
        return None
    import pyarrow.parquet as pq
    from PIL import Image

    table = pq.read_table(path)
    y = table.column("label").to_numpy()
    idx = np.arange(len(y))
    if n < len(y):
        idx, _ = train_test_split(idx, train_size=n, random_state=0, stratify=y)
    images = table.column("image").to_pylist()
    X = np.stack(
        [np.asarray(Image.open(io.BytesIO(images[i]["bytes"])).convert("RGB")) for i in idx]
    )
    return X.reshape(len(idx), -1).astype(np.float32) / 255.0, y[idx]


def sst2_minilm(n: int) -> tuple[np.ndarray, ...] | None:
    """MiniLM embeddings of ``n`` SST2 train sentences and the 1821 test sentences."""
    folder = SHARED / "senteval" / "SST2"
    if not folder.is_dir():
        return None
    try:
        from reprlearn.embed import encode_items
        from reprlearn.encoders.registry import load_encoder

        encoder = load_encoder("minilm")
    except Exception as e:  # noqa: BLE001 - any failure -> fall back to random projection
        print(json.dumps({"note": f"minilm unavailable ({e}); using random projection"}))
        return None

    def read(name: str) -> tuple[list[str], np.ndarray]:
        rows = [line.rsplit("\t", 1) for line in (folder / name).read_text().splitlines() if line]
        return [r[0].strip() for r in rows], np.array([int(r[1]) for r in rows])

    train_text, train_y = read("sentiment-train")
    rng = np.random.default_rng(0)
    pick = rng.choice(len(train_text), size=min(n, len(train_text)), replace=False)
    test_text, test_y = read("sentiment-test")
    texts = [train_text[i] for i in pick] + test_text
    cache = Path(tempfile.gettempdir()) / "reprlearn-bench" / f"sst2-minilm-{n}.npy"
    if cache.is_file():
        emb = np.load(cache)
    else:
        start = time.perf_counter()
        emb = encode_items(encoder, texts, batch_size=128)
        seconds = time.perf_counter() - start
        print(
            json.dumps(
                {"note": f"embedded {len(texts)} SST2 sentences with minilm in {seconds:.1f}s"}
            )
        )
        cache.parent.mkdir(exist_ok=True)
        np.save(cache, emb)
    return emb[: len(pick)], emb[len(pick) :], train_y[pick], test_y


def bench_linear(name, Xtr, Xte, ytr, yte, C, device, repeats, cold):
    def ours():
        return LinearProbe(C=C, device=device).fit(Xtr, ytr)

    def sklearn():
        scaler = StandardScaler().fit(Xtr)
        model = LogisticRegression(C=C, max_iter=1000, tol=1e-4).fit(scaler.transform(Xtr), ytr)
        return scaler, model

    t_ours, model = best_time(ours, repeats)
    t_sk, (scaler, ref) = best_time(sklearn, repeats)
    acc_ours = model.score(Xte, yte)
    acc_sk = ref.score(scaler.transform(Xte.astype(np.float64)), yte)
    return {
        "bench": "linear",
        "features": name,
        "n_train": len(ytr),
        "n_test": len(yte),
        "dim": Xtr.shape[1],
        "C": C,
        "ours_s": round(t_ours, 3),
        "ours_cold_s": None if cold is None else round(cold, 3),
        "sklearn_s": round(t_sk, 3),
        "speedup": round(t_sk / t_ours, 2),
        "ours_iter": model.n_iter_,
        "sklearn_iter": int(ref.n_iter_[0]),
        "ours_acc": round(100 * acc_ours, 2),
        "sklearn_acc": round(100 * acc_sk, 2),
        "diff_points": round(100 * (acc_ours - acc_sk), 2),
    }


def bench_knn(name, Xtr, Xte, ytr, yte, device, repeats):
    rows = []
    results = {}
    for backend in ("torch", "faiss"):
        try:
            t, pred = best_time(
                lambda b=backend: KNNProbe(20, 0.07, b, device).fit(Xtr, ytr).predict(Xte), repeats
            )
        except ImportError:
            continue
        results[backend] = (t, (pred == yte).mean())
    for weights in ("distance", "uniform"):
        knn = KNeighborsClassifier(20, metric="cosine", algorithm="brute", weights=weights)
        t_sk, pred = best_time(lambda k=knn: k.fit(Xtr, ytr).predict(Xte), repeats)
        acc_sk = (pred == yte).mean()
        for backend, (t, acc) in results.items():
            rows.append(
                {
                    "bench": "knn",
                    "features": name,
                    "n_train": len(ytr),
                    "n_test": len(yte),
                    "dim": Xtr.shape[1],
                    "k": 20,
                    "ours_backend": backend,
                    "sklearn_weights": weights,
                    "ours_s": round(t, 3),
                    "sklearn_s": round(t_sk, 3),
                    "speedup": round(t_sk / t, 2),
                    "ours_acc": round(100 * acc, 2),
                    "sklearn_acc": round(100 * acc_sk, 2),
                    "diff_points": round(100 * (acc - acc_sk), 2),
                }
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cifar-n", type=int, default=2000)
    parser.add_argument("--sst2-n", type=int, default=2000)
    parser.add_argument("--C", type=float, default=0.01)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()

    X, y = load_digits(return_X_y=True)
    warm = X[:200].astype(np.float32), y[:200]
    start = time.perf_counter()
    LinearProbe(device=args.device).fit(*warm)  # one-time torch._dynamo import
    cold = time.perf_counter() - start

    sets: list[tuple[str, tuple[np.ndarray, ...]]] = []
    sets.append(
        (
            "digits pixels (64-d)",
            train_test_split(X.astype(np.float32), y, test_size=0.2, random_state=0, stratify=y),
        )
    )
    cifar = cifar_pixels(args.cifar_n)
    if cifar is None:
        print(json.dumps({"note": f"no CIFAR-10 under {SHARED}; skipped"}))
    else:
        Xc, yc = cifar
        sets.append(
            (
                f"cifar10 pixels (3072-d, n={len(yc)})",
                train_test_split(Xc, yc, test_size=0.2, random_state=0, stratify=yc),
            )
        )
    sst2 = sst2_minilm(args.sst2_n)
    if sst2 is not None:
        Xtr, Xte, ytr, yte = sst2
        sets.append(("sst2 minilm (384-d)", (Xtr, Xte, ytr, yte)))
    elif cifar is not None:
        P = np.random.default_rng(0).normal(size=(Xc.shape[1], 256)).astype(np.float32) / 16
        Xp = Xc @ P
        sets.append(
            (
                "cifar10 random projection (256-d)",
                train_test_split(Xp, yc, test_size=0.2, random_state=0, stratify=yc),
            )
        )

    for name, (Xtr, Xte, ytr, yte) in sets:
        print(
            json.dumps(
                bench_linear(name, Xtr, Xte, ytr, yte, args.C, args.device, args.repeats, cold)
            ),
            flush=True,
        )
        cold = None
        for row in bench_knn(name, Xtr, Xte, ytr, yte, args.device, args.repeats):
            print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
