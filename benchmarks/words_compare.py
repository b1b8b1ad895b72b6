"""The word-level path on real text: ``reprlearn compare`` on SentEval MR (and SST2 with
``--sst2``) with onehot (``onehot:2000`` by default: compare's geometry step costs
O(V^3) in the dimension, so the full 10,000-word vocabulary takes many minutes), tfidf, mean word2vec (trained on all SentEval text), its SIF
variant, static:minilm (model2vec distilled offline) and minilm.

Budget: protocol ``linear`` only (held-out 80/20 split, as compare does); MR is 10,662
sentences. On 2 shared CPU cores: about 1 minute to train word2vec, 1-8 minutes for the
first ``static:minilm`` distillation (cached afterwards), and minilm embedding dominates
(several minutes). Prints one JSON line per encoder (accuracy with its 95% interval, dim,
items/s, bytes per item) and a summary line with ratios against ``minilm`` measured in
the same run. Usage::

    python benchmarks/words_compare.py [--w2v vectors/senteval-w2v] [--sst2] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path

SHARED = Path(
    os.environ.get(
        "REPRLEARN_SHARED_DATA", Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
    )
)


def _vectors(path: str | None, work: Path) -> str:
    if path:
        return path
    from reprlearn.words.train import train_word_vectors

    out = work / "senteval-w2v"
    if not (out / "vectors.npz").is_file():
        train_word_vectors(
            str(SHARED / "senteval"), out, method="word2vec", dim=100, progress=False
        )
    return str(out)


def _run(source: str, encoders: list[str], out: Path, **data) -> list[dict]:
    import reprlearn

    result = reprlearn.compare(
        source, encoders, out=out, protocols="linear", overwrite=True, progress=False, **data
    )
    rows = []
    for r in result.to_dict()["ranking"]:
        row = {
            "dataset": Path(source).name, "encoder": r["encoder"], "linear_acc": r["linear_acc"],
            "ci": [r["linear_ci_low"], r["linear_ci_high"]], "dim": r["dim"],
            "items_per_s": r["items_per_s"], "dense_bytes_per_item": 4 * r["dim"],
        }  # fmt: skip
        print(json.dumps(row), flush=True)
        rows.append(row)
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--w2v", help="a words-train folder (default: train on all SentEval)")
    p.add_argument("--static", default="static:minilm")
    p.add_argument(
        "--onehot",
        default="onehot:2000",
        help="onehot:V (compare's geometry step costs O(V^3): V=10,000 takes many minutes on 2 cores)",
    )
    p.add_argument("--sst2", action="store_true", help="also SST2 (train -> test files)")
    p.add_argument("--out", default=None, help="report folder (default: a temp folder)")
    args = p.parse_args()
    work = Path(args.out or tempfile.mkdtemp(prefix="words-compare-"))
    vec = _vectors(args.w2v, work)
    encoders = [args.onehot, "tfidf", f"w2v:{vec}", f"w2v:{vec}:sif", args.static, "minilm"]
    rows = _run(str(SHARED / "senteval" / "MR"), encoders, work / "MR")
    if args.sst2:
        sst = SHARED / "senteval" / "SST2"
        rows += _run(str(sst), encoders, work / "SST2", test=str(sst / "sentiment-test"))
    for ds in sorted({r["dataset"] for r in rows}):
        by = {r["encoder"]: r for r in rows if r["dataset"] == ds}
        ref = by.get("minilm")
        if not ref:
            continue
        summary = {
            "summary": ds,
            "vs_minilm": {
                name: {
                    "accuracy_kept": round(r["linear_acc"] / ref["linear_acc"], 4),
                    "speed_ratio": round(r["items_per_s"] / ref["items_per_s"], 1)
                    if r["items_per_s"] and ref["items_per_s"]
                    else None,
                }
                for name, r in by.items()
                if name != "minilm"
            },
        }
        print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
