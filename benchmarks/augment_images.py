"""Supervised image augmentation: what it buys in accuracy, and the batched path's throughput.

1. Accuracy: ``finetune --strategy full`` of a randomly initialised ``small_cnn`` (a
   ``ckpt:`` run folder written without pretraining, i.e. training from scratch, where
   augmentation matters most) on digits (sklearn's 1,797, 20% held out) and on a CIFAR-10
   subset (``--c10-train`` training images, ``--c10-test`` images of the test split), with
   ``none`` / ``default`` / ``default + MixUp 0.2`` / ``default + CutMix 1.0``, 3 seeds each.
2. Throughput (images/s) of the recipe ``default`` on CIFAR-10 32 px images: the kornia
   batched path (:class:`reprlearn.augment.batched.BatchedAugment`, batches of 256, on the
   CPU here) against the same torchvision v2 pipeline applied per image in DataLoader
   workers (``--workers``, batch 256) and in the main process; ratio = batched / per-image.
   The main process uses ``--threads`` torch threads (default 1: on 2 shared cores, 2
   threads ran the batched ops 14x slower from oversubscription).

CPU budget of the default arguments: about 10 minutes on 2 contended cores.

    .venv/bin/python benchmarks/augment_images.py                   # all
    .venv/bin/python benchmarks/augment_images.py --only throughput

Prints JSON lines (one per run, then one summary per dataset and configuration).

Measured on 2 shared CPU cores (2026-11-26; small_cnn from scratch, batch 64, lr 3e-3):

=================  ===================  ============================  ====================
configuration      digits, 6 epochs     CIFAR-10 1,000/500, 4 epochs  CIFAR-10, 15 epochs
                   (3 seeds)            (3 seeds)                     (1 seed)
=================  ===================  ============================  ====================
none               99.35% +- 0.32       36.73% +- 2.39                53.0%
default            97.41% +- 0.32       31.20% +- 1.25                47.0%
default + MixUp    96.57% +- 0.58       31.27% +- 1.36                43.2%
default + CutMix   97.22% +- 0.83       27.53% +- 4.74                41.0%
=================  ===================  ============================  ====================

At these budgets (a few epochs, as the CPU allows) augmentation costs accuracy: it is a
regulariser whose gains need long training (CutMix/MixUp papers: hundreds of epochs).
Throughput (recipe default, 4,096 CIFAR images, 1 torch thread): batched 799 images/s,
torchvision per image 184 (main process) and 209 (2 DataLoader workers): 4.34x and 3.83x.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
import warnings
from pathlib import Path

import torch

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
CONFIGS = {
    "none": {"recipe": "none"},
    "default": {"recipe": "default"},
    "default+mixup": {"recipe": "default", "mixup": 0.2},
    "default+cutmix": {"recipe": "default", "cutmix": 1.0},
}


def random_ckpt(folder: Path, channels: int, size: int, seed: int) -> Path:
    """A randomly initialised ``small_cnn`` run folder usable as ``ckpt:FOLDER``."""
    from reprlearn.training.backbones import build_backbone
    from reprlearn.training.checkpoint import export_run
    from reprlearn.training.methods import get_method

    torch.manual_seed(seed)
    mean, std = [0.5] * channels, [0.25] * channels
    backbone, dim = build_backbone("small_cnn", channels, size, mean, std)
    method = get_method("simclr")(
        backbone=backbone, feat_dim=dim, input_shape=(channels, size, size)
    )
    export_run(method, folder, {"backbone": "small_cnn", "input_shape": [channels, size, size],
                                "normalization": {"mean": mean, "std": std}})  # fmt: skip
    return folder


def datasets_for(args):
    from reprlearn.data import load_dataset

    out = {"digits": ("digits", None, 1, 8)}
    if (args.data_dir / "cifar10").is_dir():
        train = load_dataset("cifar10", data_dir=str(args.data_dir), split="train")
        test = load_dataset("cifar10", data_dir=str(args.data_dir), split="test")
        train = train.shuffle(seed=0).select(range(args.c10_train))
        test = test.shuffle(seed=0).select(range(args.c10_test))
        out["cifar10"] = (train, test, 3, 32)
    return out


def accuracy(args, tmp: Path) -> None:
    from reprlearn.adapt.finetune import finetune
    from reprlearn.augment.recipes import image_augment

    rows = []
    for name, (source, test, channels, size) in datasets_for(args).items():
        if args.data and name not in args.data.split(","):
            continue
        accs: dict[str, list[float]] = {c: [] for c in CONFIGS}
        for seed in range(args.seeds):  # seed-major: a cut-short run still covers every config
            ckpt = random_ckpt(tmp / f"ckpt-{name}-{seed}", channels, size, seed)
            for config, kw in CONFIGS.items():
                t0 = time.perf_counter()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    r = finetune(source, f"ckpt:{ckpt}", strategy="full", test=test,
                                 out=tmp / f"{name}-{config}-{seed}", augment=image_augment(**kw),
                                 epochs=args.epochs, lr=args.lr, backbone_lr_mult=1.0,
                                 batch_size=64, patience=0, val_split=0.0, min_steps=1,
                                 precision="fp32", seed=seed, progress=False, cams=False)  # fmt: skip
                accs[config].append(r.accuracy.value)
                line = {"bench": "augment_accuracy", "data": name, "config": config, "seed": seed,
                        "accuracy": round(r.accuracy.value, 4), "n_train": r.n_train,
                        "n_test": r.n_test, "epochs": args.epochs,
                        "seconds": round(time.perf_counter() - t0, 1)}  # fmt: skip
                print(json.dumps(line), flush=True)
        for config, a in accs.items():
            rows.append({"bench": "augment_accuracy_summary", "data": name, "config": config,
                         "mean": round(statistics.mean(a), 4),
                         "std": round(statistics.stdev(a), 4) if len(a) > 1 else 0.0,
                         "seeds": len(a)})  # fmt: skip
    for row in rows:
        print(json.dumps(row), flush=True)


class _PerImage(torch.utils.data.Dataset):
    def __init__(self, images: torch.Tensor, aug) -> None:
        from reprlearn.augment.recipes import image_transform

        self.images, self.tf = images, image_transform(aug, tuple(images.shape[-2:]))

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int) -> torch.Tensor:
        return torch.as_tensor(self.tf(self.images[i])).float() / 255


def throughput(args) -> None:
    from reprlearn.augment.batched import BatchedAugment
    from reprlearn.augment.recipes import image_augment
    from reprlearn.training.data import load_image_data

    data = load_image_data("cifar10", max_items=args.tp_images, holdout=0.0,
                           source_options={"data_dir": str(args.data_dir), "split": "train"})  # fmt: skip
    images = data.train
    aug = image_augment("default")
    batched = BatchedAugment(aug)
    x = images.float() / 255
    batched(x[:256], seed=0)  # warm-up
    t0 = time.perf_counter()
    for k, start in enumerate(range(0, len(x), 256)):
        batched(x[start : start + 256], seed=k)
    t_batched = time.perf_counter() - t0
    n, rates = len(images), {}
    for workers in sorted({0, args.workers}):
        loader = torch.utils.data.DataLoader(_PerImage(images, aug), batch_size=256,
                                             num_workers=workers)  # fmt: skip
        t0 = time.perf_counter()
        for _ in loader:
            pass
        rates[workers] = n / (time.perf_counter() - t0)
    print(json.dumps({"bench": "augment_throughput", "recipe": "default", "images": n,
                      "device": "cpu", "batched_threads": torch.get_num_threads(),
                      "batched_img_s": round(n / t_batched),
                      "torchvision_img_s": {f"{w}_workers": round(r) for w, r in rates.items()},
                      "ratio_batched_over_torchvision": {f"{w}_workers": round(n / t_batched / r, 2)
                                                         for w, r in rates.items()}}),
          flush=True)  # fmt: skip


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--only", choices=["accuracy", "throughput"], default=None)
    p.add_argument("--data-dir", type=Path, default=SHARED)
    p.add_argument("--data", default=None, help="digits,cifar10 (default both)")
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--epochs", type=int, default=8)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--c10-train", type=int, default=2000)
    p.add_argument("--c10-test", type=int, default=1000)
    p.add_argument("--tp-images", type=int, default=4096)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch threads of the main process (1: no oversubscription on 2 shared cores)",
    )
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    args.data_dir = args.data_dir.resolve()
    if args.only in (None, "throughput") and (args.data_dir / "cifar10").is_dir():
        throughput(args)
    if args.only in (None, "accuracy"):
        with tempfile.TemporaryDirectory() as tmp:
            accuracy(args, Path(tmp))


if __name__ == "__main__":
    main()
