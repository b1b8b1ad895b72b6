"""Image embedding speed: ``reprlearn.embed`` vs a plain timm + DataLoader loop.

Model: timm ResNet-18 with random weights (no download), classifier removed. Data: the
real CIFAR-10 test split (``../shared/data/cifar10/test.parquet``, 10,000 JPEGs; ``--n``
of them, the first N rows, for speed). Both sides use the same transform
(``timm.data.create_transform`` of ``resolve_model_data_config``, at each of ``--sizes``:
32 px is CIFAR's own size, 224 px the model's default), the same batch size, the same
number of DataLoader workers (decoding + preprocessing in workers on both sides) and the
same precision (bf16 weights where the CPU has AMX/AVX512-BF16, as ``precision="auto"``
chooses). reprlearn adds ``channels_last`` weights and batches
(:mod:`reprlearn.encoders.memory_format`) and writes a Parquet store; the plain loop does
neither. Runs are interleaved (ABAB) and repeated ``--rounds`` times; the medians are
reported with the load average. ``--device cuda`` runs both on the GPU (the plain loop
then pins its batches' memory and copies them without blocking, its best configuration).
Prints JSON lines.
Usage: ``python benchmarks/embed_images.py [--n 1000] [--rounds 3] [--sizes 32,224]
[--device cpu]``.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset

SHARED = Path(
    os.environ.get(
        "REPRLEARN_SHARED_DATA", Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
    )
)


class _JpegRows(Dataset):
    """The plain baseline: JPEG bytes -> RGB PIL -> timm transform, in workers."""

    def __init__(self, blobs: list[bytes], transform) -> None:
        self.blobs, self.transform = blobs, transform

    def __len__(self) -> int:
        return len(self.blobs)

    def __getitem__(self, i: int) -> torch.Tensor:
        return self.transform(Image.open(io.BytesIO(self.blobs[i])).convert("RGB"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=1000, help="images (0 = all 10,000)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--workers", type=int, default=None, help="default: embed's default")
    parser.add_argument("--sizes", default="32,224", help="input sizes in pixels")
    parser.add_argument("--device", default="cpu", help="cpu or cuda (both sides)")
    args = parser.parse_args()

    import datasets
    import timm
    import timm.data

    from reprlearn.data import load_dataset
    from reprlearn.device import PRECISIONS, resolve_precision
    from reprlearn.embed import _default_workers
    from reprlearn.encoders.timm import RGBTransform, TimmEncoder

    datasets.disable_progress_bars()
    ds = load_dataset(str(SHARED / "cifar10" / "test.parquet"))
    if args.n:
        ds = ds.select(range(min(args.n, ds.num_rows)))
    blobs = [x["bytes"] for x in ds.cast_column("image", datasets.Image(decode=False))["image"]]
    torch.manual_seed(0)
    enc = TimmEncoder("resnet18", random_weights=True)
    workers = _default_workers(enc) if args.workers is None else args.workers
    precision = resolve_precision("auto", torch.device(args.device))
    dtype = PRECISIONS[precision]
    plain = timm.create_model("resnet18", pretrained=False, num_classes=0)
    plain.load_state_dict(enc.model.state_dict())
    plain = plain.to(args.device, dtype).eval()
    tmp = Path(tempfile.mkdtemp(prefix="bench-images-"))
    for size in (int(x) for x in args.sizes.split(",")):
        config = {**timm.data.resolve_model_data_config(plain), "input_size": (3, size, size)}
        config["crop_pct"] = 1.0 if size < 64 else config.get("crop_pct", 0.875)
        transform = timm.data.create_transform(**config, is_training=False)
        enc.transform = RGBTransform(transform)
        enc.data_config = config
        _compare(args, ds, blobs, enc, plain, transform, workers, precision, dtype, tmp, size)


def _compare(args, ds, blobs, enc, plain, transform, workers, precision, dtype, tmp, size):
    from reprlearn.embed import embed

    n = ds.num_rows

    def ours() -> np.ndarray:
        store = embed(
            ds,
            enc,
            tmp / "store",
            batch_size=args.batch_size,
            num_workers=workers,
            device=args.device,
            precision=precision,
            overwrite=True,
            progress=False,
        )
        return store.to_numpy()[0]

    def baseline() -> np.ndarray:
        gpu = args.device != "cpu"
        loader = DataLoader(
            _JpegRows(blobs, transform),
            batch_size=args.batch_size,
            num_workers=workers,
            pin_memory=gpu,
        )
        out = []
        with torch.inference_mode():
            for x in loader:
                x = x.to(args.device, dtype, non_blocking=gpu)
                out.append(plain(x).float().cpu().numpy())
        return np.concatenate(out)

    runs = {"reprlearn": ours, "timm_dataloader": baseline}
    rates: dict[str, list[float]] = {k: [] for k in runs}
    loads: list[float] = []
    ours(), baseline()  # warm-up (oneDNN kernel selection for this input size)
    vectors: dict[str, np.ndarray] = {}
    for r in range(args.rounds):
        for name, fn in runs.items():
            start = time.perf_counter()
            vectors[name] = fn()
            rates[name].append(n / (time.perf_counter() - start))
            loads.append(os.getloadavg()[0])
            line = {"size": size, "round": r, "run": name, "images_per_s": rates[name][-1]}
            print(json.dumps({**line, "images_per_s": round(rates[name][-1], 1)}), flush=True)
    med = {k: statistics.median(v) for k, v in rates.items()}
    a, b = vectors["reprlearn"].astype(np.float64), vectors["timm_dataloader"].astype(np.float64)
    cos = (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    print(
        json.dumps(
            {
                "summary": "embed_images",
                "model": "timm resnet18 (random weights)",
                "input_px": size,
                "images": n,
                "rounds": args.rounds,
                "batch_size": args.batch_size,
                "workers": workers,
                "precision": precision,
                "threads": torch.get_num_threads(),
                "device": torch.cuda.get_device_name() if args.device != "cpu" else "cpu",
                "median_images_per_s": {k: round(v, 1) for k, v in med.items()},
                "ratio_vs_timm_dataloader": round(med["reprlearn"] / med["timm_dataloader"], 2),
                "cosine_vs_timm_dataloader": {
                    "mean": round(float(cos.mean()), 6),
                    "min": round(float(cos.min()), 6),
                },
                "load_average_1min": {
                    "median": round(statistics.median(loads), 2),
                    "min": round(min(loads), 2),
                    "max": round(max(loads), 2),
                },
                "cpus": os.cpu_count(),
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
