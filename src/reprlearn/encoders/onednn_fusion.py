"""Fused oneDNN linear layers for bf16 inference on the CPU.

A bf16 ``nn.Linear`` on the CPU runs ``aten::addmm``: the bias is first copied into the
output, then oneDNN multiplies into it, and an activation after the layer is one more pass
over the output. In a MiniLM forward pass on 300 TREC questions (29 tokens, bf16, 2 AMX
cores, ``torch.profiler``) that bias copy was 13% of the time and the exact GELU of the
six feed-forward blocks 20%. :func:`fused_linears` swaps every ``nn.Linear`` for a
:class:`PackedLinear`: the weight reordered once into oneDNN's blocked layout
(``torch.ops.mkldnn._reorder_linear_weight``) and each call one oneDNN matmul with the
bias, and for BERT-style feed-forward blocks the GELU, fused into it
(``torch.ops.mkldnn._linear_pointwise``: the kernels ``torch.compile``'s CPU backend,
Inductor, emits for the same pattern, here without a compile step). Measured on that
batch: 244 -> 182 ms per forward (median of 9, interleaved, another job on the cores).

Only the BERT family's feed-forward pattern has its GELU fused: a module whose class name
ends in ``Intermediate`` with a ``dense`` linear layer and an ``intermediate_act_fn``
that is the exact (erf) GELU (BERT, RoBERTa, XLM-R, MPNet, ELECTRA; most
sentence-transformers models). Other linear layers are packed without an activation.

The swap is undone when the ``with`` block ends (also on error), so the model keeps its
own modules, ``state_dict`` and trainability outside an embedding run. It applies only
to bf16 weights on the CPU, and only when a test call of the fused kernel matches
``torch.nn.functional.linear`` (else nothing is swapped and the reason is recorded).
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Iterator
from dataclasses import dataclass

import torch
from torch import nn

TOLERANCE = 2e-2  # relative max error of the test call (bf16 has an 8-bit mantissa)
# nn.Linear -> (weight key, packed weight); entries go with their layers
_PACKED: weakref.WeakKeyDictionary[nn.Module, tuple[tuple, torch.Tensor]] = (
    weakref.WeakKeyDictionary()
)


@dataclass
class FusionFacts:
    """What :func:`fused_linears` did: ``linear`` layers packed, of which ``gelu`` have
    their GELU fused; ``reason`` says why nothing was swapped (empty when it was)."""

    linear: int = 0
    gelu: int = 0
    reason: str = ""

    def to_dict(self) -> dict[str, int | str]:
        return {
            "linear": self.linear,
            "gelu": self.gelu,
            **({"reason": self.reason} if self.reason else {}),
        }


class PackedLinear(nn.Module):
    """``activation(x @ W^T + b)`` by one oneDNN call, ``W`` pre-packed; ``x`` ``(..., in)``
    bf16 -> ``(..., out)`` bf16. ``activation``: ``"none"`` or ``"gelu"`` (exact, erf)."""

    def __init__(self, linear: nn.Linear, activation: str = "none") -> None:
        super().__init__()
        self.in_features, self.out_features = linear.in_features, linear.out_features
        self.activation = activation
        self.weight = packed_weight(linear)
        self.bias = None if linear.bias is None else linear.bias.detach()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        algorithm = "none" if self.activation == "gelu" else ""
        return torch.ops.mkldnn._linear_pointwise(
            x, self.weight, self.bias, self.activation, [], algorithm
        )


def packed_weight(linear: nn.Linear) -> torch.Tensor:
    """``linear``'s weight in oneDNN's blocked layout, packed once per weight version
    (6-7 ms a MiniLM layer, 0.25 s the model: a fifth of embedding 1,000 short texts when
    it was redone each run); repacked when the weight changes (its data pointer,
    in-place version counter or dtype)."""
    w = linear.weight
    version = -1 if w.is_inference() else w._version  # inference tensors keep none
    key = (w.data_ptr(), version, w.dtype, tuple(w.shape))
    cached = _PACKED.get(linear)
    if cached is None or cached[0] != key:
        cached = (key, torch.ops.mkldnn._reorder_linear_weight(w.detach(), None))
        _PACKED[linear] = cached
    return cached[1]


def _is_exact_gelu(module: nn.Module) -> bool:
    if isinstance(module, nn.GELU):
        return module.approximate == "none"
    return getattr(module, "act", None) is torch.nn.functional.gelu  # transformers' GELUActivation


def _gelu_blocks(model: nn.Module) -> list[nn.Module]:
    return [
        m
        for m in model.modules()
        if type(m).__name__.endswith("Intermediate")
        and type(getattr(m, "dense", None)) is nn.Linear
        and _is_exact_gelu(getattr(m, "intermediate_act_fn", None) or nn.Identity())
    ]


def bf16_on_cpu(model: nn.Module) -> bool:
    """Whether ``model`` is a torch module whose (first) weights are bf16 on the CPU: where
    this module's and :mod:`reprlearn.encoders.short_attention`'s kernels apply."""
    first = next(model.parameters(), None) if isinstance(model, nn.Module) else None
    return first is not None and (first.device.type, first.dtype) == ("cpu", torch.bfloat16)


def _unavailable(model: nn.Module) -> str:
    """Why the fused kernels cannot serve ``model`` (empty string when they can)."""
    if not isinstance(model, nn.Module):
        return "no torch model"
    if not bf16_on_cpu(model):
        return "applies to bf16 weights on the CPU only"
    if not torch.backends.mkldnn.is_available():
        return "torch was built without oneDNN"
    try:
        gen = torch.Generator().manual_seed(0)  # not the global generator
        probe = torch.nn.utils.skip_init(nn.Linear, 64, 32, dtype=torch.bfloat16)
        with torch.no_grad():
            probe.weight.copy_(torch.randn(32, 64, generator=gen) / 8)
            probe.bias.copy_(torch.randn(32, generator=gen))
        x = torch.randn(8, 64, generator=gen).to(torch.bfloat16)
        with torch.inference_mode():
            want = torch.nn.functional.gelu(probe(x)).float()
            got = PackedLinear(probe, "gelu")(x).float()
    except (RuntimeError, AttributeError, NotImplementedError) as e:
        return f"oneDNN fused linear unavailable ({type(e).__name__}: {e})"
    error = float((got - want).abs().max() / want.abs().max().clamp_min(1e-6))
    return "" if error < TOLERANCE else f"oneDNN fused linear differs by {error:.3g} (test call)"


@contextlib.contextmanager
def fused_linears(model: nn.Module) -> Iterator[FusionFacts]:
    """Within the block, ``model``'s ``nn.Linear`` layers are :class:`PackedLinear` (see
    the module doc); restored on exit. Yields :class:`FusionFacts`. A model that is not
    bf16 on the CPU is left as it is (``facts.reason`` says so)."""
    facts = FusionFacts(reason=_unavailable(model))
    if facts.reason:
        yield facts
        return
    swaps: list[tuple[nn.Module, str, nn.Module]] = []
    try:
        for block in _gelu_blocks(model):
            swaps += [(block, "dense", block.dense),
                      (block, "intermediate_act_fn", block.intermediate_act_fn)]  # fmt: skip
            block.dense = PackedLinear(block.dense, "gelu")
            block.intermediate_act_fn = nn.Identity()
            facts.gelu += 1
        for parent in list(model.modules()):
            for name, child in list(parent.named_children()):
                if type(child) is nn.Linear:
                    swaps.append((parent, name, child))
                    setattr(parent, name, PackedLinear(child))
        facts.linear = sum(type(m) is nn.Linear for _, _, m in swaps)
        yield facts
    finally:
        for parent, name, original in reversed(swaps):
            setattr(parent, name, original)


__all__ = ["FusionFacts", "PackedLinear", "bf16_on_cpu", "fused_linears"]
