"""DDP on 2 CPU processes (gloo) against 1 process: time per epoch and equal loss curves.

``reprlearn pretrain digits`` (small_cnn, fp32, seed 0) runs through the CLI, as a user
runs it, with the same global batch: one process with ``--batch-size 2B`` against
``--devices 2 --accelerator cpu --batch-size B``. Both see the same items per step (the
seeded permutation, split between the ranks by Lightning's DistributedSamplerWrapper),
the same default LR (scaled by the global batch), BatchNorm over the global batch and the
loss of the global batch (NT-Xent negatives / VICReg statistics gathered across ranks).

1. ``exact`` (``--recipe none``: no random augmentation, so nothing differs by rank): the
   per-epoch losses of 1 and 2 processes must agree to float rounding (max |diff| printed).
   The one process runs on 1 thread, as each DDP process (Lightning sets cores/processes).
2. ``augmented`` (the ``digits`` recipe): each rank draws its own augmentations, so the
   curves agree within noise (max relative difference printed); time per epoch
   (``train_seconds`` of log.jsonl, without the monitor) and the ratio 2 / 1 processes,
   against one process on 1 thread and on every core (torch's default).

On this machine (2 cores shared with other work) two processes cannot be faster than one
that already uses both cores; the ratio measures DDP's overhead (process start, gloo
all-reduce of gradients, gathers), not a speed-up. Budget of the defaults (7 runs): 11
minutes wall here with other jobs on the 2 cores (each run is mostly process start-up).

    .venv/bin/python benchmarks/ddp_cpu.py
    .venv/bin/python benchmarks/ddp_cpu.py --methods simclr --epochs 2 --max-items 600

Prints one JSON line per run, then one summary line per comparison.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run(out: Path, *, method: str, devices: int, batch: int, recipe: str, epochs: int,
        max_items: int, threads: int | None = None) -> dict:  # fmt: skip
    """One ``reprlearn pretrain`` run; its log records and the command's wall time."""
    args = [sys.executable, "-m", "reprlearn.cli", "pretrain", "digits", "--method", method,
            "--backbone", "small_cnn", "--epochs", str(epochs), "--batch-size", str(batch),
            "--max-items", str(max_items), "--recipe", recipe, "--precision", "fp32",
            "--accelerator", "cpu", "--devices", str(devices), "--seed", "0",
            "--out", str(out), "--json"]  # fmt: skip
    if method == "vicreg":
        args += ["--set", "expander_dim=256"]
    t0 = time.perf_counter()
    env = {**os.environ, **({"OMP_NUM_THREADS": str(threads)} if threads else {})}
    proc = subprocess.run(args, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{proc.stderr[-3000:]}")
    log = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    return {"method": method, "devices": devices, "threads": threads or "default",
            "batch_per_process": batch,
            "global_batch": batch * devices, "recipe": recipe, "epochs": epochs,
            "wall_s": round(wall, 2), "loss": [r["loss"] for r in log],
            "train_seconds": [round(r["train_seconds"], 3) for r in log],
            "steps": log[-1]["step"], "knn_top1": log[-1].get("knn_top1")}  # fmt: skip


def compare(a: dict, b: dict, kind: str) -> dict:
    """Loss curves and time per epoch of one process (``a``) against two (``b``)."""
    diffs = [abs(x - y) for x, y in zip(a["loss"], b["loss"], strict=True)]
    rel = [d / abs(x) for d, x in zip(diffs, a["loss"], strict=True)]
    per_epoch = lambda r: sum(r["train_seconds"]) / len(r["train_seconds"])  # noqa: E731
    return {"comparison": kind, "method": a["method"], "global_batch": a["global_batch"],
            "loss_1proc": a["loss"], "loss_2proc": b["loss"], "max_abs_diff": max(diffs),
            "max_rel_diff": max(rel), "steps_1proc": a["steps"], "steps_2proc": b["steps"],
            "epoch_s_1proc": round(per_epoch(a), 3), "epoch_s_2proc": round(per_epoch(b), 3),
            "epoch_time_ratio_2_over_1": round(per_epoch(b) / per_epoch(a), 3),
            "wall_ratio_2_over_1": round(b["wall_s"] / a["wall_s"], 3),
            "threads_1proc": a["threads"],
            "knn_top1_1proc": a["knn_top1"], "knn_top1_2proc": b["knn_top1"]}  # fmt: skip


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--methods", default="simclr,vicreg", help="methods of the exact check")
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--max-items", type=int, default=600, help="digits subset (80%% trains)")
    p.add_argument("--batch", type=int, default=64, help="global batch (split over 2)")
    a = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        plans = [(m, "none", "exact") for m in a.methods.split(",")]
        plans.append(("simclr", "digits", "augmented"))
        for method, recipe, kind in plans:
            # one process on 1 thread (as each DDP process: Lightning sets cores / processes)
            # and, for the timing, on every core (torch's default)
            configs = [(1, 1), (2, None)] + ([(1, None)] if kind == "augmented" else [])
            runs = {}
            for devices, threads in configs:
                out = Path(tmp) / f"{method}-{recipe}-{devices}-{threads}"
                runs[devices, threads] = r = run(
                    out, method=method, devices=devices, batch=a.batch // devices, recipe=recipe,
                    epochs=a.epochs, max_items=a.max_items, threads=threads)  # fmt: skip
                print(json.dumps(r), flush=True)
            for one in [k for k in runs if k[0] == 1]:
                print(json.dumps(compare(runs[one], runs[2, None], kind)), flush=True)


if __name__ == "__main__":
    main()
