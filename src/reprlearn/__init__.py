"""reprlearn: representation learning on your own data.

The public API (imported lazily, so ``import reprlearn`` is fast)::

    ds = reprlearn.load_dataset("digits")
    enc = reprlearn.load_encoder("pca:32")
    store = reprlearn.embed(ds, enc, out="emb/digits-pca32")
    X, y = store.to_numpy()
    reprlearn.inspect(store, out="inspect/")     # similarity matrix, neighbours, map, geometry
    reprlearn.probe(store, protocol="linear")    # linear / kNN / k-means / SentEval / MTEB
    reprlearn.compare("digits", ["pixels", "pca:16"], out="reports/digits")
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "load_dataset": "reprlearn.data",
    "load_encoder": "reprlearn.encoders",
    "Encoder": "reprlearn.encoders",
    "TorchEncoder": "reprlearn.encoders",
    "embed": "reprlearn.embed",
    "encode_items": "reprlearn.embed",
    "EmbeddingStore": "reprlearn.store",
    "inspect": "reprlearn.analysis.inspect",
    "probe": "reprlearn.evaluation.probe",
    "sts": "reprlearn.evaluation.sts",
    "compare": "reprlearn.report.compare",
    "pretrain": "reprlearn.training.pretrain",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'reprlearn' has no attribute {name!r}")
