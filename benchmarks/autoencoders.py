"""Autoencoders, VAEs and baselines on ``shapes`` (factors) and digits (label efficiency).

Part 1, ``shapes`` (procedural images with known factors, 32x32 RGB): for pixels, PCA,
an autoencoder, a VAE (beta 1) and a beta-VAE (beta 4) (and SimCLR, the other engineer's
method, when it is registered), a linear probe per factor (held-out accuracy), DCI
(Eastwood & Williams 2018) and MIG (Chen et al. 2018).
Part 2, digits: label efficiency (linear probe at 1, 2, 5, 10 labels per class, 5 draws)
of the AE and VAE codes against pixels and PCA.

Training is a plain loop over the reprlearn methods (``get_method(name)(backbone=...)``,
the MLP backbone of ``reprlearn.training.backbones``), Adam, one CPU thread, fp32, each
run stopped after ``--seconds`` (default 120 s). Prints one JSON line per result and
tables; writes ``results.jsonl`` and reconstruction / sample / traversal PNGs to ``--out``.

    python benchmarks/autoencoders.py [--n 5000] [--seconds 120] [--out DIR] [--no-simclr]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from rich.console import Console
from rich.table import Table

from reprlearn.data import load_dataset
from reprlearn.encoders.registry import load_encoder
from reprlearn.evaluation.disentanglement import mig
from reprlearn.evaluation.factors import score_factors
from reprlearn.evaluation.label_efficiency import label_efficiency
from reprlearn.training.backbones import build_backbone
from reprlearn.training.generative import (
    reconstruct_images,
    sample_images,
    save_grid,
    traverse_latents,
)
from reprlearn.training.methods import get_method
from reprlearn.training.methods.vae import evaluate_vae

console = Console(width=160)  # wide tables also when piped to a file


def to_tensor(images) -> torch.Tensor:
    """PIL images -> float (n, C, H, W) in [0, 1]."""
    arrays = [np.asarray(im, dtype=np.uint8) for im in images]
    x = torch.from_numpy(np.stack(arrays)).float() / 255.0
    return x.unsqueeze(1) if x.ndim == 3 else x.permute(0, 3, 1, 2).contiguous()


def train(name: str, x: torch.Tensor, seconds: float, seed: int = 0, **options):
    """Train method ``name`` on ``x`` for ``seconds`` (batch 64, Adam 1e-3)."""
    torch.manual_seed(seed)
    c, h, _ = x.shape[1:]
    backbone, feat = build_backbone("mlp", c, h)
    method = get_method(name)(backbone=backbone, feat_dim=feat, input_shape=(c, h, h), **options)
    augment = lambda v: v  # noqa: E731
    if name == "simclr":
        from reprlearn.augment.ssl_views import recipe

        augment = recipe("simclr", h)
    opt = torch.optim.Adam(method.parameters(), lr=1e-3)
    method.train()
    start, step, last = time.perf_counter(), 0, {}
    while time.perf_counter() - start < seconds:
        out = method.training_loss(x[torch.randint(0, len(x), (64,))], augment)
        opt.zero_grad()
        out["loss"].backward()
        opt.step()
        method.after_optimizer_step(step, 10**9)
        step += 1
        last = {k: round(float(v.detach()), 4) for k, v in out.items()}
    method.eval()
    return method, {"steps": step, "seconds": round(time.perf_counter() - start, 1), **last}


@torch.no_grad()
def embed_all(method, x: torch.Tensor) -> np.ndarray:
    return torch.cat([method.embed(b) for b in x.split(512)]).numpy()


def emit(record: dict, sink) -> None:
    line = json.dumps(record, default=float)
    print(line, flush=True)
    sink.write(line + "\n")
    sink.flush()


def shapes_part(args, out: Path, sink) -> list[dict]:
    ds = load_dataset("shapes", n=args.n, seed=0)
    images = ds["image"]
    x = to_tensor(images)
    names = ["shape", "color", "size", "x", "y"]
    factors = {k: np.asarray(ds[k]) for k in names}
    codes: dict[str, tuple[np.ndarray, dict]] = {}
    for enc in ("pixels", "pca:10"):
        t = time.perf_counter()
        e = load_encoder(enc).fit(images)
        codes[enc] = (e.encode(images), {"seconds": round(time.perf_counter() - t, 1)})
    small = {"latent_dim": 10, "decoder_width": 16}
    # Bernoulli/BCE for the AE too: with MSE it first learns the black background (all-black
    # reconstructions after ~200 steps in 100 s on a busy 2-core machine)
    runs = [("ae", {**small, "loss": "bce"}), ("vae", {**small, "beta": 1.0}),
            ("vae", {**small, "beta": 4.0, "kl_warmup_steps": 100})]  # fmt: skip
    if args.simclr:
        runs.append(("simclr", {}))
    methods = {}
    for name, options in runs:
        label = name if name != "vae" else f"vae-beta{options['beta']:g}"
        method, info = train(name, x, args.seconds, **options)
        if name == "vae":
            info["heldout"] = evaluate_vae(method, x[-1000:]).to_dict()
            info["heldout"].pop("kl_per_dim")
        methods[label] = method
        codes[label] = (embed_all(method, x), info)
    rows = []
    for label, (X, info) in codes.items():
        t = time.perf_counter()
        wide = X.shape[1] > 64  # per-factor trees on 512-3072 dims take minutes: MIG only
        rows_used = slice(0, 1000) if X.shape[1] > 1000 else slice(None)  # raw pixels: 1000 rows
        X = X[rows_used]
        f_used = {k: v[rows_used] for k, v in factors.items()}
        rep = score_factors(X, f_used, encoder=label, dci_method="gbt", max_samples=3000,
                            disentanglement=not wide)  # fmt: skip
        record = {"part": "shapes", "encoder": label, "dim": X.shape[1], "n_eval": len(X),
                  "train": info,
                  **{f"probe_{s.factor}": round(s.score, 4) for s in rep.factors}}  # fmt: skip
        if rep.dci:
            record |= {"dci_d": rep.dci.disentanglement, "dci_c": rep.dci.completeness,
                       "dci_i": rep.dci.informativeness}  # fmt: skip
        codes_f = np.stack([f_used[k] for k in names], 1)
        record["mig"] = (rep.mig or mig(X, codes_f, max_samples=3000)).mig
        record["eval_seconds"] = round(time.perf_counter() - t, 1)
        emit(record, sink)
        rows.append(record)
    picks = x[:8]
    for label, method in methods.items():
        if not hasattr(method, "reconstruct"):
            continue
        save_grid(
            torch.stack([picks, reconstruct_images(method, picks)]),
            out / f"shapes_{label}_recon.png",
        )
        if label.startswith("vae"):
            save_grid(sample_images(method, 64), out / f"shapes_{label}_samples.png")
            save_grid(traverse_latents(method, x[:1]), out / f"shapes_{label}_traversal.png")
    return rows


def digits_part(args, out: Path, sink) -> list[dict]:
    ds = load_dataset("digits")
    images, y = ds["image"], np.asarray(ds["label"])
    x = to_tensor(images)
    rng = np.random.default_rng(0)
    order = rng.permutation(len(y))
    tr, te = order[:1200], order[1200:]
    feats = {}
    for enc in ("pixels", "pca:10"):
        feats[enc] = load_encoder(enc).fit([images[i] for i in tr]).encode(images)
    for name, options in (("ae", {"latent_dim": 10}), ("vae", {"latent_dim": 10})):
        method, info = train(name, x[tr], args.digits_seconds, **options)
        feats[name] = embed_all(method, x)
        save_grid(torch.stack([x[te[:10]], reconstruct_images(method, x[te[:10]])]),
                  out / f"digits_{name}_recon.png")  # fmt: skip
        if name == "vae":
            save_grid(sample_images(method, 64), out / "digits_vae_samples.png")
    rows = []
    for label, X in feats.items():
        res = label_efficiency(X[tr], y[tr], X[te], y[te], budgets=(1, 2, 5, 10, "all"),
                               repeats=5, device="cpu")  # fmt: skip
        record = {"part": "digits", "encoder": label, "dim": X.shape[1]}
        for b, s in zip(res.budgets, res.accuracy, strict=True):
            record[f"acc_{b}"] = round(float(s.value), 4)
            record[f"std_{b}"] = round(float(s.std or 0.0), 4)
        emit(record, sink)
        rows.append(record)
    return rows


def tables(shapes: list[dict], digits: list[dict]) -> None:
    t = Table(title="shapes: per-factor linear probe (held-out accuracy), DCI, MIG")
    cols = ["probe_shape", "probe_color", "probe_size", "probe_x", "probe_y", "dci_d", "dci_c",
            "dci_i", "mig"]  # fmt: skip
    for c in ["encoder", "dim", *cols]:
        t.add_column(c.replace("probe_", ""), justify="right")
    for r in shapes:
        t.add_row(r["encoder"], str(r["dim"]),
                  *[f"{r[c]:.3f}" if c in r else "-" for c in cols])  # fmt: skip
    console.print(t)
    t = Table(title="digits: label efficiency (linear probe accuracy, mean of 5 draws)")
    budgets = ["1", "2", "5", "10", "all"]
    for c in ["encoder", "dim", *budgets]:
        t.add_column(c, justify="right")
    for r in digits:
        t.add_row(r["encoder"], str(r["dim"]),
                  *[f"{r['acc_' + b]:.3f}±{r['std_' + b]:.3f}" for b in budgets])  # fmt: skip
    console.print(t)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=5000, help="shapes images")
    p.add_argument("--seconds", type=float, default=120, help="training time per shapes run")
    p.add_argument("--digits-seconds", type=float, default=60, help="per digits run")
    p.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "reprlearn-bench-ae")
    p.add_argument("--no-simclr", dest="simclr", action="store_false")
    p.add_argument("--threads", type=int, default=1, help="torch threads (1: shared CPUs)")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    with open(args.out / "results.jsonl", "w") as sink:
        shapes = shapes_part(args, args.out, sink)
        digits = digits_part(args, args.out, sink)
    tables(shapes, digits)
    console.print(f"PNGs and results.jsonl in {args.out}")


if __name__ == "__main__":
    main()
