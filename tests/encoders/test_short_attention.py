"""Two-product attention for short sequences: transformers' sdpa results, model restored."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from transformers import BertConfig, BertModel
from transformers.integrations.sdpa_attention import sdpa_attention_forward

from reprlearn.encoders.short_attention import SHORT, short_attention, short_attention_forward


class _Encoder(nn.Module):
    is_causal = False


def _qkv(length: int, dtype: torch.dtype, seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    return [torch.randn(6, 4, length, 16, generator=gen).to(dtype) for _ in range(3)]


def _masks(length: int):
    keep = torch.ones(6, 1, length, length, dtype=torch.bool)
    keep[:3, ..., max(1, length - 2) :] = False  # padded keys in half the rows (never all)
    additive = torch.zeros(keep.shape).masked_fill(~keep, torch.finfo(torch.float32).min)
    return [None, keep, additive]


@pytest.mark.parametrize("length", [1, 7, SHORT])
def test_short_sequences_give_sdpas_outputs(length):
    q, k, v = _qkv(length, torch.float32)
    for mask in _masks(length):
        ours, _ = short_attention_forward(_Encoder(), q, k, v, mask, scaling=0.25)
        want, _ = sdpa_attention_forward(_Encoder(), q, k, v, mask, scaling=0.25)
        assert ours.shape == want.shape == (6, length, 4, 16)
        torch.testing.assert_close(ours, want, rtol=1e-5, atol=1e-5)


def test_longer_causal_or_dropout_calls_go_to_sdpa_unchanged():
    q, k, v = _qkv(SHORT + 1, torch.float32)
    ours, _ = short_attention_forward(_Encoder(), q, k, v, None)
    assert torch.equal(ours, sdpa_attention_forward(_Encoder(), q, k, v, None)[0])
    q, k, v = _qkv(5, torch.float32)
    causal = short_attention_forward(_Encoder(), q, k, v, None, is_causal=True)[0]
    assert torch.equal(causal, sdpa_attention_forward(_Encoder(), q, k, v, None, is_causal=True)[0])


def _bert(dtype: torch.dtype) -> BertModel:
    torch.manual_seed(0)
    config = BertConfig(vocab_size=200, hidden_size=64, num_hidden_layers=2,
                        num_attention_heads=4, intermediate_size=128,
                        attn_implementation="sdpa")  # fmt: skip
    return BertModel(config).to(dtype).eval()


def test_a_bf16_bert_uses_it_within_the_block_only():
    model = _bert(torch.bfloat16)
    ids = torch.randint(0, 200, (8, 10), generator=torch.Generator().manual_seed(1))
    mask = torch.ones_like(ids)
    mask[:4, 7:] = 0
    with torch.inference_mode():
        before = model(input_ids=ids, attention_mask=mask).last_hidden_state.float()
        with short_attention(model) as switched:
            assert switched == 1 and model.config._attn_implementation != "sdpa"
            ours = model(input_ids=ids, attention_mask=mask).last_hidden_state.float()
    assert model.config._attn_implementation == "sdpa"
    real = mask.bool()  # padded positions' states are never read (mean pooling masks them)
    cos = nn.functional.cosine_similarity(ours[real], before[real], dim=1)
    assert cos.min() > 0.999


def test_float32_models_and_errors_leave_the_model_as_it_was():
    with short_attention(_bert(torch.float32)) as switched:
        assert switched == 0
    model = _bert(torch.bfloat16)
    with pytest.raises(RuntimeError, match="stop"), short_attention(model):
        raise RuntimeError("stop")
    assert model.config._attn_implementation == "sdpa"
