"""finetune on encoders whose dimension is learned in fit (tfidf, onehot, pixels): they
crashed with AttributeError before the fit (``enc.dim`` read the unfitted vocabulary)."""

from __future__ import annotations

import numpy as np
import pytest
from datasets import ClassLabel, Dataset, Features, Value


def _texts(n: int = 80) -> Dataset:
    rng = np.random.default_rng(0)
    words = {0: ["rain", "cloud", "storm", "wet"], 1: ["sun", "warm", "bright", "dry"]}
    y = np.arange(n) % 2
    texts = [" ".join(rng.choice(words[c], 3)) + " today" for c in y]
    feats = Features({"text": Value("string"), "label": ClassLabel(names=["wet", "dry"])})
    return Dataset.from_dict({"text": texts, "label": y.tolist()}, features=feats)


@pytest.mark.parametrize("encoder", ["tfidf", "onehot"])
def test_finetune_freeze_on_a_fitted_text_encoder(tmp_path, encoder):
    from reprlearn.adapt.finetune import finetune

    result = finetune(_texts(), encoder, strategy="freeze", out=tmp_path / encoder,
                      lp_epochs=5, min_steps=5, progress=False)  # fmt: skip
    assert result.accuracy.value > 0.9
