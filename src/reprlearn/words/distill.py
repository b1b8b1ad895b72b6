"""``distill_static``: a sentence-transformers model -> a model2vec static model (a table of
one vector per token, no transformer at inference), offline from a local folder.

model2vec (Tulkens & van Dongen 2024) embeds every token of the tokenizer's vocabulary
with the transformer, reduces them with PCA (``pca_dims``, default 256) and weights them
by Zipf's law; a text is then the mean of its tokens' rows. ``distill_static`` calls
``model2vec.distill.distill`` on a local folder, so nothing is downloaded.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Any

from reprlearn.errors import ReprlearnError


def resolve_model_folder(model: str) -> str:
    """``minilm`` / ``st:PATH`` / ``PATH`` -> a local sentence-transformers folder.

    Raises:
        ReprlearnError: not a local folder (hub ids cannot be distilled offline here).
    """
    from reprlearn.encoders.registry import families, resolve_name

    families()  # registers the aliases (minilm)
    full = resolve_name(model)
    path = full.split(":", 1)[1] if full.startswith(("st:", "hf:")) else full
    if not Path(path).is_dir():
        raise ReprlearnError(
            f"{model}: distillation needs a local model folder (a sentence-transformers or "
            f"transformers folder), and {path!r} is not one; download the model elsewhere "
            "and pass its folder, or use minilm (bundled)"
        )
    return path


def cache_dir() -> Path:
    """Where reprlearn caches what it builds once: ``$REPRLEARN_CACHE``, else
    ``$XDG_CACHE_HOME/reprlearn``, else ``~/.cache/reprlearn``."""
    if os.environ.get("REPRLEARN_CACHE"):
        return Path(os.environ["REPRLEARN_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "reprlearn"


def distill_static(
    model: str, out: str | Path, *, pca_dims: int | None = 256, overwrite: bool = False
) -> dict[str, Any]:
    """Distil ``model`` into a model2vec folder ``out`` (``StaticModel.save_pretrained``).

    Args:
        model: ``minilm``, ``st:PATH`` or a local sentence-transformers/transformers folder.
        out: output folder; pca_dims: output dimension (None keeps the model's; default 256).
        overwrite: replace an existing static-model folder at ``out``.

    Returns:
        ``{"model", "out", "dim", "vocab_size", "seconds"}``.

    Raises:
        ReprlearnError: not a local folder; ImportError: model2vec's distill extra missing.
    """
    from reprlearn.outdir import write_json_atomic, writer_lock
    from reprlearn.words.vectors import fresh_out_dir

    folder = resolve_model_folder(model)
    try:
        from model2vec.distill import distill
    except ImportError as e:
        raise ImportError(
            f"words distill needs model2vec with skeletoken: pip install model2vec skeletoken ({e})"
        ) from e
    out = fresh_out_dir(out, "static", overwrite, "reprlearn_distill.json")
    start = time.perf_counter()
    with writer_lock(out):
        static = distill(model_name=folder, pca_dims=pca_dims)
        tmp = out / ".model.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        static.save_pretrained(str(tmp))
        for f in tmp.iterdir():
            os.replace(f, out / f.name)
        tmp.rmdir()
        facts = {
            "model": model, "source_folder": folder, "out": str(out), "method": "model2vec distill",
            "dim": int(static.dim), "vocab_size": len(static.tokens),
            "seconds": round(time.perf_counter() - start, 1),
        }  # fmt: skip
        write_json_atomic(out / "reprlearn_distill.json", facts)
    return facts
