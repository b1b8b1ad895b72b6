"""``freeze`` speed on digits: reprlearn (features cached once) vs a plain PyTorch loop that
re-encodes every epoch vs scikit-learn ``LogisticRegression`` on the cached features.

All three train a linear classifier on the same frozen SSL backbone (``ckpt:`` run of
``reprlearn pretrain digits --method simclr``; one is pretrained here if ``--ckpt`` is not
given), the same 80/20 stratified split (seed 0) and, for the two torch loops, the same
head (BatchNorm without affine + Linear), AdamW, batch size and epochs.

Budget: about 1-2 minutes on 2 shared CPU cores (``--epochs 20``).

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/finetune_freeze_speed.py --epochs 20

Prints one JSON line per method with wall time (s), test accuracy and the ratio against
reprlearn's time measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import torch


def pretrained(ckpt: str | None) -> str:
    if ckpt:
        return ckpt
    from reprlearn.training.pretrain import pretrain

    out = Path(tempfile.mkdtemp()) / "simclr"
    pretrain("digits", method="simclr", out=out, epochs=5, batch_size=256, progress=False)
    return str(out)


def plain_loop(
    encoder: str, epochs: int, batch_size: int, lr: float, seed: int
) -> tuple[float, float]:
    """Re-encodes the training images through the frozen backbone every epoch."""
    from reprlearn.adapt.classifier import build_head
    from reprlearn.adapt.splits import make_splits
    from reprlearn.data.load import load_dataset
    from reprlearn.encoders.registry import load_encoder

    t0 = time.perf_counter()
    torch.manual_seed(seed)
    enc = load_encoder(encoder)
    ds = load_dataset("digits")
    y = np.asarray(ds["label"])
    s = make_splits(y, seed=seed)
    x = torch.stack([enc.preprocess(im) for im in ds["image"]])
    enc.model.eval()
    head = build_head(enc.dim, 10)
    opt = torch.optim.AdamW(head.parameters(), lr=lr, weight_decay=0.01)
    train = np.concatenate([s.train, s.val])
    yt = torch.as_tensor(y)
    for _ in range(epochs):
        order = train[torch.randperm(len(train)).numpy()]
        for i in range(0, len(order), batch_size):
            idx = order[i : i + batch_size]
            with torch.no_grad():
                f = enc.forward(x[idx]).float()
            loss = torch.nn.functional.cross_entropy(head(f), yt[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    head.eval()
    with torch.no_grad():
        pred = head(enc.forward(x[s.test]).float()).argmax(1).numpy()
    return time.perf_counter() - t0, float((pred == y[s.test]).mean())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ckpt", help="a pretrain run folder (default: pretrain one, 5 epochs)")
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--lr", type=float, default=3e-3)
    args = ap.parse_args()
    encoder = f"ckpt:{pretrained(args.ckpt)}"
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from reprlearn.adapt.finetune import finetune

    out = Path(tempfile.mkdtemp()) / "ft"
    t0 = time.perf_counter()
    r = finetune("digits", encoder, strategy="freeze", out=out, lp_epochs=args.epochs, patience=0,
                 val_split=0.0, batch_size=args.batch_size, lr=args.lr, progress=False)  # fmt: skip
    ours = time.perf_counter() - t0
    rows = [{"method": "reprlearn freeze (features cached once)", "seconds": ours,
             "accuracy": r.accuracy.value}]  # fmt: skip
    seconds, acc = plain_loop(encoder, args.epochs, args.batch_size, args.lr, 0)
    rows.append({"method": "plain torch loop, re-encodes every epoch", "seconds": seconds,
                 "accuracy": acc})  # fmt: skip
    from reprlearn.adapt.splits import make_splits
    from reprlearn.store import EmbeddingStore

    X, y = EmbeddingStore.open(out / "features" / "source").to_numpy()
    s = make_splits(y, seed=0)
    train = np.concatenate([s.train, s.val])
    t0 = time.perf_counter()
    lr = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(X[train], y[train])
    rows.append({"method": "sklearn LogisticRegression on cached features",
                 "seconds": time.perf_counter() - t0,
                 "accuracy": float(lr.score(X[s.test], y[s.test]))})  # fmt: skip
    for row in rows:
        row.update(epochs=args.epochs, ratio_vs_reprlearn=row["seconds"] / ours,
                   torch_threads=torch.get_num_threads())  # fmt: skip
        print(json.dumps(row))


if __name__ == "__main__":
    main()
