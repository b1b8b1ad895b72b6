"""MLP heads used during self-supervised training: projectors and predictors.

SimCLR's projector (Chen et al. 2020, Sec. 2.1: Linear-BN-ReLU-Linear), BYOL's projector
and predictor (Grill et al. 2020, Sec. 3.3: Linear(4096)-BN-ReLU-Linear(256)) and VICReg's
expander (Bardes et al. 2022, Sec. 4.1: three Linear(8192) layers with BN-ReLU between)
are all this MLP with different sizes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from torch import nn

Norm = Literal["batch", "layer", "none"]
Init = Literal["xavier", "he", "default"]


def _norm(kind: Norm, dim: int) -> nn.Module:
    if kind == "batch":
        return nn.BatchNorm1d(dim)
    if kind == "layer":
        return nn.LayerNorm(dim)
    if kind == "none":
        return nn.Identity()
    raise ValueError(f"unknown norm {kind!r}; choose batch, layer or none")


def _init(module: nn.Module, init: Init) -> None:
    for m in module.modules():
        if isinstance(m, nn.Linear) and init != "default":
            if init == "xavier":
                nn.init.xavier_uniform_(m.weight)
            elif init == "he":
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            else:
                raise ValueError(f"unknown init {init!r}; choose xavier, he or default")
            if m.bias is not None:
                nn.init.zeros_(m.bias)


def build_mlp(
    in_dim: int,
    hidden_dims: Sequence[int],
    out_dim: int,
    *,
    norm: Norm = "batch",
    init: Init = "default",
    dropout: float = 0.0,
    last_norm: bool = False,
) -> nn.Sequential:
    """``Linear -> norm -> ReLU -> dropout`` per hidden layer, then ``Linear(out_dim)``.

    Args:
        in_dim: input features ``(B, in_dim)``.
        hidden_dims: widths of the hidden layers (empty: one linear layer).
        out_dim: output features ``(B, out_dim)``.
        norm: ``batch`` (the papers' choice), ``layer`` or ``none``.
        init: ``xavier`` (uniform), ``he`` (Kaiming normal, fan-in, ReLU gain) or
            ``default`` (PyTorch's Linear init).
        dropout: dropout probability after each hidden ReLU (default 0).
        last_norm: a BatchNorm without affine parameters on the output (SimCLR v2 style).

    Raises:
        ValueError: unknown ``norm`` or ``init``.
    """
    layers: list[nn.Module] = []
    dim = in_dim
    for width in hidden_dims:
        layers += [nn.Linear(dim, width, bias=norm == "none"), _norm(norm, width), nn.ReLU()]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        dim = width
    layers.append(nn.Linear(dim, out_dim))
    if last_norm:
        layers.append(nn.BatchNorm1d(out_dim, affine=False))
    mlp = nn.Sequential(*layers)
    _init(mlp, init)
    return mlp
