"""Per-layer activation statistics of an MLP: mean, std, saturated share, dead-ReLU share.

Used by ``init-stats`` (Glorot & Bengio 2010, Fig. 3-6; He et al. 2015, Sec. 2.2) and,
each epoch of ``finetune``, on an MLP head, where a layer whose activations vanish or
explode gets a warning.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn

from reprlearn.training.heads import ACTIVATIONS

ACTIVATION_TYPES = tuple(t for t in ACTIVATIONS.values() if t is not nn.Identity)
VANISH_STD, EXPLODE_STD = 1e-3, 1e3


def saturated_share(a: torch.Tensor, kind: type[nn.Module]) -> float:
    """Share of units in saturation: sigmoid < 0.01 or > 0.99; |tanh| > 0.99; else 0."""
    if kind is nn.Sigmoid:
        return float(((a < 0.01) | (a > 0.99)).float().mean())
    if kind is nn.Tanh:
        return float((a.abs() > 0.99).float().mean())
    return 0.0


def dead_share(a: torch.Tensor, kind: type[nn.Module]) -> float:
    """ReLU: share of outputs exactly 0; other activations 0."""
    return float((a == 0).float().mean()) if kind is nn.ReLU else 0.0


class ActivationRecorder:
    """Accumulates activation statistics of each nonlinearity of ``mlp`` over forward passes.

    ``record()`` is a context manager installing forward hooks; :meth:`summary` returns one
    dict per layer ``{"layer": i (1-based), "mean", "std", "saturated", "dead"}``.
    """

    def __init__(self, mlp: nn.Module) -> None:
        self.layers = [m for m in mlp.modules() if isinstance(m, ACTIVATION_TYPES)]
        self.reset()

    def reset(self) -> None:
        n = len(self.layers)
        self.sums = [[0.0] * 5 for _ in range(n)]  # count, sum, sumsq, saturated, dead

    @contextmanager
    def record(self) -> Iterator[ActivationRecorder]:
        handles = [m.register_forward_hook(self._hook(i)) for i, m in enumerate(self.layers)]
        try:
            yield self
        finally:
            for h in handles:
                h.remove()

    def _hook(self, i: int):
        kind = type(self.layers[i])

        def hook(module, inputs, output):
            a = output.detach().float()
            n = a.numel()
            s = self.sums[i]
            s[0] += n
            s[1] += float(a.sum())
            s[2] += float((a * a).sum())
            s[3] += saturated_share(a, kind) * n
            s[4] += dead_share(a, kind) * n

        return hook

    def summary(self) -> list[dict[str, float]]:
        out = []
        for i, (n, s1, s2, sat, dead) in enumerate(self.sums):
            if n == 0:
                continue
            mean = s1 / n
            std = max(s2 / n - mean * mean, 0.0) ** 0.5
            out.append({"layer": i + 1, "mean": mean, "std": std,
                        "saturated": sat / n, "dead": dead / n})  # fmt: skip
        return out


def activation_warnings(layers: list[dict[str, float]]) -> list[str]:
    """Messages for layers whose activations vanish (std < 1e-3), explode (std > 1e3) or are
    all dead (ReLU share 1.0) — the failure modes of a bad initialisation."""
    msgs = []
    for r in layers:
        if r["dead"] >= 0.999:
            msgs.append(f"head layer {r['layer']}: all ReLU units are dead (output 0)")
        elif r["std"] < VANISH_STD:
            msgs.append(f"head layer {r['layer']}: activations vanish (std {r['std']:.2e})")
        elif r["std"] > EXPLODE_STD:
            msgs.append(f"head layer {r['layer']}: activations explode (std {r['std']:.2e})")
    return msgs
