"""Digits with a SimCLR checkpoint: each strategy at 5 / 20 / all labels per class.

Pretrains SimCLR on digits (``reprlearn pretrain digits --method simclr --epochs 5``) unless
``--ckpt`` is given, then runs the strategy comparison of ``reprlearn finetune --strategy
freeze,partial,full,lp-ft --labels-per-class 5,20,all`` with Gaussian-noise-corrupted digits
(severity 3) as the shifted test set, and prints one JSON line per strategy x budget (test
accuracy with its 95% interval, OOD accuracy, trainable parameters, wall time, peak RSS,
CKA before/after). The report folder holds report.html.

Budget: about 5-10 minutes on 2 shared CPU cores (``--epochs 4``).

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/finetune_digits.py --out reports/bench-digits-ft
"""

from __future__ import annotations

import argparse
import json

from finetune_freeze_speed import pretrained


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ckpt", help="a pretrain run folder (default: pretrain one, 5 epochs)")
    ap.add_argument("--out", default="reports/bench-digits-ft")
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--budgets", default="5,20,all")
    args = ap.parse_args()
    from reprlearn.adapt.report import compare_strategies

    budgets = [None if b == "all" else int(b) for b in args.budgets.split(",")]
    report = compare_strategies(
        "digits", f"ckpt:{pretrained(args.ckpt)}", ["freeze", "partial", "full", "lp-ft"],
        budgets, out=args.out, ood="digits", ood_options={"corruption": "gaussian_noise:3"},
        epochs=args.epochs, batch_size=64, lr=3e-3, overwrite=True, progress=False,
    )  # fmt: skip
    for row in report.results:
        print(json.dumps(row))
    print(json.dumps({"conclusion": report.conclusion}))


if __name__ == "__main__":
    main()
