"""Attention of short sequences on the CPU by two batched matrix products.

Short texts (questions, queries, phrases of about ten words) make batches of a few
hundred sequences under 16 tokens. PyTorch's CPU kernel for
``scaled_dot_product_attention`` (the flash-attention kernel transformers' ``"sdpa"``
implementation reaches) is slow on them: in MiniLM on 300 TREC questions of 12 tokens
(bf16, 2 AMX cores, idle) it took 7.6 ms per layer, 46% of the forward pass, where
``softmax(Q K^T * scale + mask) V`` as two batched matrix products took 4.6-4.8 ms (transformers' own ``"eager"`` computation, without its
dropout and hooks; its softmax in float32 and back took 6.6 ms: PyTorch's CPU softmax
already accumulates bf16 in float32, so the extra casts are left out).

Measured per layer on 4,096-token batches (12 heads of 32, bf16, a third of the rows
padded), sdpa / two products: 4 tokens 10.5 / 4.6 ms, 8: 11.2 / 4.9, 12: 9.3 / 5.2, 15:
9.7 / 5.9; from 16 tokens on the kernel is faster (16: 3.1 / 3.9, 24: 4.9 / 6.4, 32:
2.4 / 3.6), hence :data:`SHORT` = 15.

:func:`short_attention` switches a transformers model to :data:`NAME` for the duration of
a ``with`` block: sequences of at most :data:`SHORT` positions, bidirectional, without
dropout, position bias or soft-capping take that path, everything else goes to
transformers' ``sdpa_attention_forward`` unchanged. The model's implementation is
restored on exit. bf16 weights on the CPU only. It needs transformers' ``AttentionInterface`` (transformers >= 4.48);
without it, or for models not on ``"sdpa"``, nothing changes.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import torch
from torch import nn

from reprlearn.encoders.onednn_fusion import bf16_on_cpu

NAME = "reprlearn_short_sdpa"
SHORT = 15  # positions up to which the two-product path is taken


def short_attention_forward(
    module: nn.Module,
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attention_mask: torch.Tensor | None,
    dropout: float = 0.0,
    scaling: float | None = None,
    is_causal: bool | None = None,
    **kwargs: Any,
) -> tuple[torch.Tensor, None]:
    """transformers' attention-function contract: ``query`` ``(B, H, Lq, D)``, ``key``,
    ``value`` ``(B, H, Lk, D)``, ``attention_mask`` boolean (True = attend) or additive,
    broadcastable to ``(B, H, Lq, Lk)``; returns ``((B, Lq, H, D), None)``."""
    from transformers.integrations.sdpa_attention import sdpa_attention_forward

    causal = is_causal if is_causal is not None else getattr(module, "is_causal", True)
    if (
        causal
        or dropout
        or max(query.shape[2], key.shape[2]) > SHORT
        or query.shape[1] != key.shape[1]  # grouped-query attention
        or kwargs.get("position_bias") is not None
        or kwargs.get("softcap") is not None
    ):
        return sdpa_attention_forward(module, query, key, value, attention_mask, dropout=dropout,
                                      scaling=scaling, is_causal=is_causal, **kwargs)  # fmt: skip
    scale = scaling if scaling is not None else query.shape[-1] ** -0.5
    scores = torch.matmul(query, key.transpose(-1, -2)) * scale
    if attention_mask is not None:
        if attention_mask.dtype == torch.bool:
            scores = scores.masked_fill(~attention_mask, torch.finfo(scores.dtype).min)
        else:
            scores = scores + attention_mask
    probs = torch.softmax(scores, dim=-1)  # the CPU kernel accumulates bf16 in float32
    return torch.matmul(probs, value).transpose(1, 2).contiguous(), None


def _register() -> bool:
    """Register :data:`NAME` (attention and mask functions); False without the API."""
    try:
        from transformers import AttentionInterface
        from transformers.masking_utils import AttentionMaskInterface, sdpa_mask
    except ImportError:
        return False
    AttentionInterface.register(NAME, short_attention_forward)
    AttentionMaskInterface.register(NAME, sdpa_mask)
    return True


@contextlib.contextmanager
def short_attention(model: nn.Module) -> Iterator[int]:
    """Within the block, the transformers models inside ``model`` that use ``"sdpa"``
    use :data:`NAME` (see the module doc); yields how many were switched, restored on
    exit (also on error). Only for bf16 models on the CPU (where it was measured)."""
    configs = []
    for m in model.modules() if isinstance(model, nn.Module) else ():
        config = getattr(m, "config", None)
        sdpa = getattr(config, "_attn_implementation", None) == "sdpa"
        if sdpa and all(c is not config for c in configs):
            configs.append(config)
    if not configs or not bf16_on_cpu(model) or not _register():
        yield 0
        return
    try:
        for config in configs:
            config._attn_implementation = NAME
        yield len(configs)
    finally:
        for config in configs:
            config._attn_implementation = "sdpa"


__all__ = ["NAME", "SHORT", "short_attention", "short_attention_forward"]
