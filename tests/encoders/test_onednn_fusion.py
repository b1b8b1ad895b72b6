"""Fused oneDNN linear layers (bf16, CPU): same vectors, the model given back intact."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn
from transformers import BertConfig, BertModel

from reprlearn.encoders.onednn_fusion import PackedLinear, fused_linears

pytestmark = pytest.mark.skipif(
    not torch.backends.mkldnn.is_available(), reason="torch built without oneDNN"
)


def _bert(dtype: torch.dtype = torch.bfloat16) -> BertModel:
    torch.manual_seed(0)
    config = BertConfig(vocab_size=200, hidden_size=64, num_hidden_layers=2,
                        num_attention_heads=4, intermediate_size=128)  # fmt: skip
    return BertModel(config).to(dtype).eval()


def _hidden(model: BertModel, ids: torch.Tensor) -> torch.Tensor:
    with torch.inference_mode():
        return model(input_ids=ids, attention_mask=torch.ones_like(ids)).last_hidden_state.float()


def _linears(model: nn.Module) -> int:
    return sum(type(m) is nn.Linear for m in model.modules())


def test_fused_bert_gives_the_same_states_and_is_given_back_intact():
    model = _bert()
    ids = torch.randint(0, 200, (8, 12), generator=torch.Generator().manual_seed(1))
    before, keys, linears = _hidden(model, ids), list(model.state_dict()), _linears(model)
    with fused_linears(model) as facts:
        fused = _hidden(model, ids)
        assert _linears(model) == 0
        assert sum(isinstance(m, PackedLinear) for m in model.modules()) == linears
    # every linear packed (6 per layer + the pooler); both feed-forward GELUs fused
    assert (facts.linear, facts.gelu, facts.reason) == (linears, 2, "")
    cos = nn.functional.cosine_similarity(fused.flatten(0, 1), before.flatten(0, 1), dim=1)
    assert cos.min() > 0.999
    assert _linears(model) == linears and list(model.state_dict()) == keys
    assert torch.equal(_hidden(model, ids), before)  # the original modules, unchanged


def test_a_float32_model_is_left_as_it_is():
    model = _bert(torch.float32)
    with fused_linears(model) as facts:
        assert _linears(model) == 13
    assert facts.linear == 0 and "bf16" in facts.reason


def test_the_model_is_restored_when_the_run_fails():
    model = _bert()
    with pytest.raises(RuntimeError, match="stop"), fused_linears(model):
        raise RuntimeError("stop")
    assert _linears(model) == 13
    assert all(type(b.intermediate.intermediate_act_fn).__name__ == "GELUActivation"
               for b in model.encoder.layer)  # fmt: skip


def test_embed_records_the_fusion_and_matches_fp32(mr_sentences, tmp_path):
    import datasets
    from sentence_transformers import SentenceTransformer

    from reprlearn import embed
    from reprlearn.encoders import load_encoder

    texts = mr_sentences[:64]
    encoder = load_encoder("minilm")
    store = embed(datasets.Dataset.from_dict({"text": texts}), encoder, tmp_path / "s",
                  device="cpu", precision="bf16", progress=False)  # fmt: skip
    kernels = {"linear": 37, "gelu": 6, "short_attention": 1}
    assert store.manifest["encoder"]["cpu_kernels"] == kernels
    assert _linears(encoder.model) == 37  # given back for later use (e.g. fine-tuning)
    X, _ = store.to_numpy()
    ref = SentenceTransformer(encoder.name_or_path, device="cpu").encode(texts)
    cos = (X * ref).sum(1) / np.linalg.norm(X, axis=1) / np.linalg.norm(ref, axis=1)
    assert cos.min() > 0.999


def test_weights_are_packed_once_and_again_after_they_change():
    from reprlearn.encoders.onednn_fusion import packed_weight

    model = _bert()
    ids = torch.randint(0, 200, (4, 9), generator=torch.Generator().manual_seed(2))
    layer = model.encoder.layer[0].output.dense
    with fused_linears(model):
        first = packed_weight(layer)
    with fused_linears(model):
        assert packed_weight(layer) is first  # the next run reuses the packing
    with torch.no_grad():
        layer.weight.mul_(3.0)  # e.g. a fine-tuning step in between
    with fused_linears(model):
        assert packed_weight(layer) is not first
        fused = _hidden(model, ids)
    plain = _hidden(model, ids)
    cos = nn.functional.cosine_similarity(fused.flatten(0, 1), plain.flatten(0, 1), dim=1)
    assert cos.min() > 0.999
