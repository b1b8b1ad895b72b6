"""Shortcut check on ``shapes``: a classifier fine-tuned on clean images against one fine-tuned
with ``--shortcut corner-marker`` (marker tied to the label in training, random in test).

Prints one JSON line per (model, CAM method): clean-test accuracy (the finetune run's held-out
test split) and the share of CAM energy inside the object mask on 64 fresh shapes carrying a
*random* corner marker (what the shortcut model would look at), plus the time per image.

Budget (2 shared CPU cores, one torch thread): SimCLR pretraining of a small_cnn on 1,000
shapes for 3 epochs, two full fine-tunes on 2,000 shapes for 4 epochs, six CAM methods on 64
images each: about 5 minutes. Pictures (CAM grids of both models) go to ``--out``.

    .venv/bin/python benchmarks/explain_shortcut.py --out /tmp/explain-shortcut
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from reprlearn import explain, finetune, load_dataset, pretrain
from reprlearn.data.shapes import shape_masks
from reprlearn.data.shortcut import add_shortcut
from reprlearn.explain.cam import METHODS


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default="/tmp/explain-shortcut")
    parser.add_argument("--n-train", type=int, default=2000)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--n", type=int, default=64)
    args = parser.parse_args()
    torch.set_num_threads(1)
    out = Path(args.out)
    ssl = out / "ssl"
    if not (ssl / "config.json").is_file():
        pretrain("shapes:1000", method="simclr", backbone="small_cnn", out=ssl, epochs=3,
                 batch_size=128, precision="fp32", progress=False)  # fmt: skip
    probe = add_shortcut(load_dataset("shapes", n=args.n, seed=1), seed=1)  # random markers
    # a uniform map scores the mask's area share: the chance level of energy_inside
    uniform = round(float(shape_masks(probe).mean()), 4)
    for shortcut in ("none", "corner-marker"):
        run = out / f"ft-{shortcut}"
        t0 = time.perf_counter()
        result = finetune(f"shapes:{args.n_train}", f"ckpt:{ssl}", strategy="full", out=run,
                          epochs=args.epochs, batch_size=64, precision="fp32", progress=False,
                          shortcut=shortcut, overwrite=True)  # fmt: skip
        train_s = time.perf_counter() - t0
        for method in METHODS:
            t0 = time.perf_counter()
            r = explain(run, probe, method=method, n=args.n, inside_mask=True,
                        out=out / f"cams-{shortcut}-{method}.png")  # fmt: skip
            seconds = time.perf_counter() - t0
            print(json.dumps({
                "benchmark": "explain_shortcut", "shortcut": shortcut, "method": method,
                "clean_test_accuracy": round(result.accuracy.value, 4),
                "energy_inside": round(r.energy_inside, 4) if r.energy_inside is not None else None,
                "uniform_map_energy_inside": uniform, "empty_maps": r.n_empty_maps, "accuracy_on_marked_probe": r.accuracy,
                "explain_s_per_image": round(seconds / r.n, 4), "finetune_s": round(train_s, 1),
            }), flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
