"""``static:minilm`` (model2vec distilled from all-MiniLM-L6-v2) against ``minilm`` on CPU:
sentences/s of each, measured in the same run on the same real sentences (SentEval MR;
``--n`` of them, seeded, default 2,000), through ``reprlearn.encode_items`` (minilm at
precision auto = bf16 on AMX CPUs) and, as the peer, model2vec's own
``StaticModel.encode`` and sentence-transformers' ``encode`` (fp32, batch 32).

Budget: ~2,000 sentences x 3 rounds (median reported); minilm dominates (tens of
seconds per round on 2 shared cores). The accuracy kept is measured by
``benchmarks/words_compare.py``. The first ``static:minilm`` use distils the model
(1-8 minutes on 2 shared cores) and caches it. Usage::

    python benchmarks/words_static_speed.py [--n 2000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

import numpy as np

SHARED = Path(
    os.environ.get(
        "REPRLEARN_SHARED_DATA", Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
    )
)


def _rate(fn, n: int) -> float:
    start = time.perf_counter()
    fn()
    return n / (time.perf_counter() - start)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=2000)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--static", default="static:minilm")
    args = p.parse_args()
    import reprlearn
    from reprlearn.encoders import load_encoder

    ds = reprlearn.load_dataset(str(SHARED / "senteval" / "MR"))
    rows = np.random.default_rng(0).choice(len(ds), size=min(args.n, len(ds)), replace=False)
    texts = [ds[int(i)]["text"] for i in rows]
    static, minilm = load_encoder(args.static), load_encoder("minilm")
    runs = {
        "reprlearn_static": lambda: reprlearn.encode_items(static, texts),
        "model2vec_encode": lambda: static.model.encode(texts, show_progress_bar=False),
        "reprlearn_minilm": lambda: reprlearn.encode_items(minilm, texts),
        "st_encode_fp32_b32": lambda: minilm.model.encode(texts, batch_size=32),
    }
    rates: dict[str, list[float]] = {k: [] for k in runs}
    for r in range(args.rounds):
        for name, fn in runs.items():
            rate = _rate(fn, len(texts))
            rates[name].append(rate)
            print(
                json.dumps({"round": r, "run": name, "sentences_per_s": round(rate, 1)}), flush=True
            )
    med = {k: statistics.median(v) for k, v in rates.items()}
    print(json.dumps({
        "summary": "static vs minilm (CPU)", "n": len(texts), "median_sentences_per_s": {k: round(v, 1) for k, v in med.items()},
        "static_over_minilm": round(med["reprlearn_static"] / med["reprlearn_minilm"], 1),
        "static_over_st_fp32": round(med["reprlearn_static"] / med["st_encode_fp32_b32"], 1),
        "reprlearn_static_over_model2vec": round(med["reprlearn_static"] / med["model2vec_encode"], 3),
        "cpu_count": os.cpu_count(),
    }), flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
