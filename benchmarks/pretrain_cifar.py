"""SimCLR + CIFAR ResNet-18 on CIFAR-10: kNN accuracy, wall time and images/s, against a
plain PyTorch training loop (same model, augmentation, optimiser) on the same machine.

    # full run (a GPU): 200 epochs on the 50,000 training images
    .venv/bin/python benchmarks/pretrain_cifar.py --epochs 200 --batch-size 512
    # CPU smoke run: 1 epoch on 2,000 images
    .venv/bin/python benchmarks/pretrain_cifar.py --epochs 1 --subset 2000 --batch-size 128

kNN: cosine, k = 200, T = 0.07 (lightly's CIFAR-10 benchmark protocol), memory bank = the
training images used, queries = ``--test-subset`` images of the CIFAR-10 test split.
The data come from ``../shared/data/cifar10`` (or ``--data-dir`` / ``$REPRLEARN_DATA``).
Prints JSON lines.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import time
from pathlib import Path

import torch

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"


def plain_loop(data, epochs: int, batch_size: int, lr: float, device: str, bf16: bool) -> float:
    """Images/s of a hand-written loop: same SimCLR, augmentation, AdamW; no Lightning."""
    from reprlearn.augment.ssl_views import recipe
    from reprlearn.training.backbones import build_backbone
    from reprlearn.training.methods import get_method

    torch.manual_seed(0)
    mean, std = data.mean_std()
    net, dim = build_backbone("resnet18_cifar", 3, 32, mean, std)
    method = get_method("simclr")(backbone=net, feat_dim=dim).to(device)
    aug = recipe("simclr", 32).reseed(0, device)
    opt = torch.optim.AdamW(method.parameters(), lr=lr, weight_decay=1e-4)
    n, seen = len(data.train), 0
    t0 = time.perf_counter()
    for _ in range(epochs):
        for idx in torch.randperm(n).split(batch_size):
            if len(idx) < batch_size:
                continue
            x = data.train[idx].to(device, non_blocking=True).float().div_(255)
            with torch.autocast(torch.device(device).type, dtype=torch.bfloat16, enabled=bf16):
                loss = method.training_loss(x, aug)["loss"]
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            seen += len(idx)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return seen / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--subset", type=int, default=2000, help="training images (0 = all 50,000)")
    ap.add_argument("--test-subset", type=int, default=1000)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--lr", type=float, default=None)
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--out", default="runs/bench-cifar")
    ap.add_argument("--precision", default="auto")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--skip-plain", action="store_true")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    from reprlearn.encoders import load_encoder
    from reprlearn.evaluation.knn import KNNProbe
    from reprlearn.training.data import load_image_data
    from reprlearn.training.monitor import embed_images
    from reprlearn.training.pretrain import pretrain, resolve_precision

    data_dir = args.data_dir or os.environ.get("REPRLEARN_DATA") or str(SHARED)
    opts = {"split": "train", "data_dir": data_dir}
    t0 = time.perf_counter()
    data = load_image_data("cifar10", max_items=args.subset or None, source_options=opts,
                           holdout=0.1, max_holdout=1000)  # fmt: skip
    test = load_image_data("cifar10", max_items=args.test_subset, holdout=0.0,
                           source_options={**opts, "split": "test"})  # fmt: skip
    print(json.dumps({"decode_seconds": time.perf_counter() - t0, "train": len(data.train),
                      "test": len(test.train)}), flush=True)  # fmt: skip
    out = Path(args.out)
    shutil.rmtree(out, ignore_errors=True)
    result = pretrain("cifar10", method="simclr", backbone="resnet18_cifar", out=out,
                      epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                      precision=args.precision, data=data, knn_k=200, progress=False)  # fmt: skip
    rate = sum(r["items_per_s"] * r["train_seconds"] for r in result.history) / sum(
        r["train_seconds"] for r in result.history
    )
    method = load_encoder(f"ckpt:{out}").model
    device = "cuda" if torch.cuda.is_available() else "cpu"
    method.to(device)
    bank = embed_images(method, data.train, device).float().cpu().numpy()
    queries = embed_images(method, test.train, device).float().cpu().numpy()
    probe = KNNProbe(k=200, backend="torch", device=device).fit(bank, data.train_labels.numpy())
    knn = probe.score(queries, test.train_labels.numpy())
    row = {"method": "simclr", "backbone": "resnet18_cifar", "epochs": args.epochs,
           "train_images": len(data.train), "knn_top1_test_k200": knn,
           "knn_top1_holdout_k200": result.final.get("knn_top1"),
           "wall_seconds": result.seconds, "images_per_s": rate, "device": device,
           "precision": resolve_precision(args.precision)}  # fmt: skip
    print(json.dumps(row), flush=True)
    if not args.skip_plain:
        bf16 = resolve_precision(args.precision) == "bf16-mixed"
        lr = args.lr or 1e-3 * args.batch_size / 256
        plain = plain_loop(data, args.epochs, args.batch_size, lr, device, bf16)
        print(json.dumps({"plain_pytorch_images_per_s": plain, "reprlearn_images_per_s": rate,
                          "ratio": rate / plain}), flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
