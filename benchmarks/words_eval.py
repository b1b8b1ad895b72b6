"""``words eval`` on word vectors trained on all SentEval text (word2vec and fastText,
gensim, dim 100, 5 epochs, min-count 5) and on static:minilm (model2vec): Mikolov
analogies (semantic / syntactic accuracy, coverage), WordSim-353 and SimLex-999 Spearman
with the OOV share — gensim's bundled files; the peer is gensim's own
``evaluate_word_analogies`` / ``evaluate_word_pairs``, which ``words eval`` calls.

Budget: ~1 minute per training on 2 shared cores; static:minilm's 30k-token table makes
its analogy pass the longest (several minutes on a loaded machine). Small corpora give
weak analogies (gensim's tutorial reports 0.0 on its Lee corpus). Prints one JSON line
per vectors. Usage::

    python benchmarks/words_eval.py [--work DIR] [--skip-static]
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


def _line(name: str, info: dict, vocab: int, result: dict, extra: dict | None = None) -> None:
    a = result["analogies"]
    out = {
        "vectors": name, "vocab_size": vocab, "analogy_acc": a["accuracy"], "semantic": a["semantic"],
        "syntactic": a["syntactic"], "analogy_coverage": round(a["coverage"], 4),
        **{f"{k}_spearman": v["spearman"] for k, v in result["pairs"].items()},
        **{f"{k}_oov": round(v["oov_share"], 4) for k, v in result["pairs"].items()},
        **(extra or {}),
    }  # fmt: skip
    print(json.dumps(out), flush=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--work", default=None, help="folder for the trained vectors (default temp)")
    p.add_argument("--skip-static", action="store_true")
    args = p.parse_args()
    from reprlearn.words.evaluate import evaluate_word_vectors
    from reprlearn.words.train import train_word_vectors
    from reprlearn.words.vectors import open_vectors

    work = Path(args.work or tempfile.mkdtemp(prefix="words-eval-"))
    for method in ("word2vec", "fasttext"):
        out = work / f"senteval-{method}"
        m = train_word_vectors(
            str(SHARED / "senteval"), out, method=method, dim=100, overwrite=True, progress=False
        )
        kv, info = open_vectors(str(out))
        _line(
            method,
            info,
            len(kv.index_to_key),
            evaluate_word_vectors(kv),
            {"train_seconds": m["seconds"], "corpus_tokens": m["corpus"]["tokens"]},
        )
    if not args.skip_static:
        kv, info = open_vectors("static:minilm")
        _line("static:minilm", info, len(kv.index_to_key), evaluate_word_vectors(kv))


if __name__ == "__main__":
    main()
