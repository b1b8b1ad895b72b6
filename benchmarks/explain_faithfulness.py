"""Faithfulness per CAM method on digits, and CPU time per image of Grad-CAM vs Score-CAM.

A small_cnn is pretrained with SimCLR on digits (3 epochs) and fine-tuned (``full``, 5 epochs);
then for 64 digits each method's maps are scored with grad-cam's ROADCombined (Rong et al.
2022; higher = more faithful) and the imputed deletion curve (mean score change after
removing the top 10..90% pixels), beside a random-map baseline (grad-cam's ``RandomCAM``)
measured in the same run. Time per image is the wall time of ``compute_cams`` on one torch
thread, with the ratio to Grad-CAM.

Budget: about 3 minutes on 2 shared CPU cores.

    .venv/bin/python benchmarks/explain_faithfulness.py --out /tmp/explain-faith
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from reprlearn import finetune, load_dataset, pretrain
from reprlearn.data.items import decode_item
from reprlearn.explain.cam import METHODS, compute_cams
from reprlearn.explain.faithfulness import deletion_curve, road_combined
from reprlearn.explain.layers import choose_layer
from reprlearn.explain.model import load_explainable
from reprlearn.explain.targets import class_targets


def _random_cams(model, x, layer) -> np.ndarray:
    from pytorch_grad_cam import RandomCAM

    with RandomCAM(model=model, target_layers=[layer.module]) as cam:
        return cam(input_tensor=x, targets=None)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default="/tmp/explain-faith")
    parser.add_argument("--n", type=int, default=64)
    args = parser.parse_args()
    torch.set_num_threads(1)
    out = Path(args.out)
    if not (out / "ssl" / "config.json").is_file():
        pretrain("digits", method="simclr", backbone="small_cnn", out=out / "ssl", epochs=3,
                 batch_size=128, precision="fp32", progress=False)  # fmt: skip
    result = finetune("digits", f"ckpt:{out / 'ssl'}", strategy="full", out=out / "ft",
                      epochs=5, batch_size=64, precision="fp32", progress=False,
                      overwrite=True)  # fmt: skip
    net = load_explainable(out / "ft")
    ds = load_dataset("digits")
    rows = np.random.default_rng(0).choice(len(ds), args.n, replace=False)
    images = [decode_item(im, "image") for im in ds.select(rows)["image"]]
    x = net.encoder.collate([net.encoder.preprocess(im) for im in images]).float()
    with torch.no_grad():
        pred = net.module(x).argmax(1).numpy()
    targets = class_targets(pred)
    layer = choose_layer(net.module, x)
    base = {"benchmark": "explain_faithfulness", "data": "digits", "n": args.n,
            "layer": layer.name, "test_accuracy": round(result.accuracy.value, 4)}  # fmt: skip
    torch.manual_seed(0)
    rand = _random_cams(net.module, x, layer)
    print(json.dumps({**base, "method": "random (baseline)",
                      "road": round(float(road_combined(net.module, x, rand, targets).mean()), 4),
                      "deletion": {k: round(v, 4) for k, v in
                                   deletion_curve(net.module, x, rand, targets).items()}}),
          flush=True)  # fmt: skip
    seconds = {}
    for method in METHODS:
        t0 = time.perf_counter()
        cams = compute_cams(net.module, x, method=method, layer=layer, targets=list(pred))
        seconds[method] = (time.perf_counter() - t0) / args.n
        road = float(road_combined(net.module, x, cams, targets).mean())
        curve = deletion_curve(net.module, x, cams, targets)
        print(json.dumps({**base, "method": method, "road": round(road, 4),
                          "deletion": {k: round(v, 4) for k, v in curve.items()},
                          "ms_per_image": round(1000 * seconds[method], 3),
                          "time_ratio_vs_gradcam": round(seconds[method] / seconds["gradcam"], 2)}),
              flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
