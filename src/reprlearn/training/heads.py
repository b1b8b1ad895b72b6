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
Init = str  # "xavier" | "he" | "default" | "zeros" | "normal:STD"
Activation = Literal["relu", "tanh", "sigmoid", "gelu", "identity"]
ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "gelu": nn.GELU,
    "identity": nn.Identity,
}  # fmt: skip
INITS = ("default", "xavier", "he", "zeros", "normal:STD")


def _norm(kind: Norm, dim: int) -> nn.Module:
    if kind == "batch":
        return nn.BatchNorm1d(dim)
    if kind == "layer":
        return nn.LayerNorm(dim)
    if kind == "none":
        return nn.Identity()
    raise ValueError(f"unknown norm {kind!r}; choose batch, layer or none")


def parse_init(init: Init) -> tuple[str, float]:
    """``"normal:0.01"`` -> ``("normal", 0.01)``; other names -> ``(name, 0.0)``.

    Raises:
        ValueError: an unknown init or a bad ``normal:STD``.
    """
    name, _, arg = init.partition(":")
    if name == "normal":
        try:
            std = float(arg)
        except ValueError:
            raise ValueError(f"init {init!r}: give the std, e.g. normal:0.01") from None
        if std < 0:
            raise ValueError(f"init {init!r}: the std must be >= 0")
        return name, std
    if name not in ("default", "xavier", "he", "zeros") or arg:
        raise ValueError(f"unknown init {init!r}; choose one of {', '.join(INITS)}")
    return name, 0.0


def _init(module: nn.Module, init: Init) -> None:
    name, std = parse_init(init)
    if name == "default":
        return
    for m in module.modules():
        if isinstance(m, nn.Linear):
            if name == "xavier":
                nn.init.xavier_uniform_(m.weight)
            elif name == "he":
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            elif name == "zeros":
                nn.init.zeros_(m.weight)
            else:
                nn.init.normal_(m.weight, 0.0, std)
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
    activation: Activation = "relu",
) -> nn.Sequential:
    """``Linear -> norm -> activation -> dropout`` per hidden layer, then ``Linear(out_dim)``.

    Args:
        in_dim: input features ``(B, in_dim)``.
        hidden_dims: widths of the hidden layers (empty: one linear layer).
        out_dim: output features ``(B, out_dim)``.
        norm: ``batch`` (the papers' choice), ``layer`` or ``none``.
        init: ``xavier`` (uniform; Glorot & Bengio 2010), ``he`` (Kaiming normal, fan-in,
            ReLU gain; He et al. 2015), ``zeros`` (all weights 0: the symmetry never breaks),
            ``normal:STD`` (N(0, STD^2)) or ``default`` (PyTorch's Linear init). Biases
            start at 0 except with ``default``.
        dropout: dropout probability after each hidden ReLU (default 0).
        last_norm: a BatchNorm without affine parameters on the output (SimCLR v2 style).
        activation: the hidden nonlinearity (``relu`` default, ``tanh``, ``sigmoid``,
            ``gelu``, ``identity``).

    Raises:
        ValueError: unknown ``norm``, ``init`` or ``activation``.
    """
    if activation not in ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}; choose {', '.join(ACTIVATIONS)}")
    layers: list[nn.Module] = []
    dim = in_dim
    for width in hidden_dims:
        layers += [nn.Linear(dim, width, bias=norm == "none"), _norm(norm, width),
                   ACTIVATIONS[activation]()]  # fmt: skip
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        dim = width
    layers.append(nn.Linear(dim, out_dim))
    if last_norm:
        layers.append(nn.BatchNorm1d(out_dim, affine=False))
    mlp = nn.Sequential(*layers)
    _init(mlp, init)
    return mlp
