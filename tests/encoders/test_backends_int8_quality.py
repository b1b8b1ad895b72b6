"""The ``--precision int8`` quality gate (:mod:`reprlearn.encoders.int8_quality`) on real
embeddings: all-MiniLM-L6-v2 (the bundled ``minilm``) on real MR sentences, fp32 against
copies of itself with int8-sized and larger errors."""

from __future__ import annotations

import numpy as np
import pytest

from reprlearn.encoders.int8_quality import Int8QualityError, check_int8, int8_quality


@pytest.fixture(scope="module")
def minilm_fp32(mr):
    from reprlearn.embed import encode_items

    texts = list(mr.select(range(0, 10_000, 100))["text"])  # 100 real MR sentences
    return encode_items("minilm", texts, precision="fp32", backend="torch")


def _perturbed(x: np.ndarray, scale: float) -> np.ndarray:
    """``x`` with symmetric per-tensor int8 rounding error of ``scale`` x its step."""
    rng = np.random.default_rng(0)
    step = np.abs(x).max() / 127
    return (x + rng.uniform(-0.5, 0.5, x.shape) * step * scale).astype(np.float32)


def test_identical_embeddings_pass_with_perfect_scores(minilm_fp32):
    q = int8_quality(minilm_fp32, minilm_fp32)
    assert q.mean_cosine == pytest.approx(1.0) and q.pair_spearman == pytest.approx(100.0)
    assert q.n_texts == 100 and q.n_pairs == 4950 and q.passed


def test_int8_sized_rounding_passes_and_large_errors_are_refused(minilm_fp32):
    near = check_int8(_perturbed(minilm_fp32, 1.0), minilm_fp32, "minilm on onnx")
    assert near.mean_cosine >= 0.99 and near.pair_spearman >= 99.5
    assert near.to_dict()["passed"] is True
    with pytest.raises(Int8QualityError, match=r"minilm on onnx.*mean cosine to fp32 0\.\d+"):
        check_int8(_perturbed(minilm_fp32, 40.0), minilm_fp32, "minilm on onnx")


def test_pair_ranking_loss_alone_fails_the_gate(minilm_fp32):
    """A model whose vectors keep cosine >= 0.99 to fp32 yet reorder pair similarities by
    more than 0.5 Spearman points is refused: the gate checks both."""
    x = minilm_fp32 / np.linalg.norm(minilm_fp32, axis=1, keepdims=True)
    rng = np.random.default_rng(1)
    noise = rng.normal(size=(len(x), 1)) @ rng.normal(size=(1, x.shape[1]))  # one direction
    noise -= (noise * x).sum(1, keepdims=True) * x  # orthogonal to each row
    noise /= np.linalg.norm(noise, axis=1, keepdims=True)
    tilted = x + 0.12 * noise  # each row turned by ~6.8 degrees: cosine ~0.993
    q = int8_quality(tilted, minilm_fp32)
    assert q.mean_cosine >= 0.99 and q.pair_spearman < 99.5 and not q.passed


def test_two_texts_have_no_pair_spearman_but_keep_the_cosine_gate(minilm_fp32):
    q = int8_quality(minilm_fp32[:2], minilm_fp32[:2])
    assert q.pair_spearman is None and q.n_pairs == 1 and q.passed
