"""Which layer a class activation map hooks: the last convolutional stage, or a ViT's last block.

The choice is made from one traced forward pass (forward hooks on every module):

* **CNNs** (torchvision/timm ResNets, ConvNeXt, our ``small_cnn`` and ``resnet18_cifar``): the
  module whose ``(B, C, h, w)`` output (``h * w > 1``) completes *last* after the first
  convolution, and that runs once. A container completes after its children, so this is the
  last stage (``layer4`` of a ResNet, ``stages`` of a ConvNeXt) or, in a flat ``Sequential``,
  the last activation before pooling: the "last convolutional layer" of Grad-CAM
  (Selvaraju et al. 2017, Sec. 3).
* **Vision transformers** (timm ``blocks``, transformers ``encoder.layer``): the input
  LayerNorm of the last block (``blocks[-1].norm1``: the last block's own patch outputs do
  not reach a CLS-pooled output), with a ``reshape_transform`` that drops the prefix tokens (CLS, distillation and register
  tokens: all tokens beyond ``gh * gw`` patches) and lays the patch tokens out on the
  ``gh x gw`` grid of the input (non-square inputs give non-square grids), as in grad-cam's
  ViT tutorial.

:func:`choose_layer` with ``name`` hooks that module instead; an unknown name is an error
listing the layers that can be hooked.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from reprlearn.errors import ReprlearnError

_STACK_SUFFIXES = ("blocks", "encoder.layer", "encoder.layers", "layers")


@dataclass
class LayerChoice:
    """The hooked layer: its dotted ``name``, the ``module`` and the ``reshape_transform``
    (None for ``(B, C, h, w)`` outputs; tokens -> ``(B, D, gh, gw)`` for transformers)."""

    name: str
    module: nn.Module
    reshape_transform: Callable[[torch.Tensor], torch.Tensor] | None = None


@dataclass
class _Call:
    name: str
    shape: tuple[int, ...]
    order: int


def trace_outputs(model: nn.Module, example: torch.Tensor) -> tuple[list[_Call], dict[str, int]]:
    """Forward ``example[:1]`` once; returns the tensor outputs of every named module in the
    order they complete, and how many times each module ran."""
    calls: list[_Call] = []
    counts: dict[str, int] = {}
    handles = []

    def hook(name):
        def record(_module, _inputs, output):
            counts[name] = counts.get(name, 0) + 1
            out = output[0] if isinstance(output, tuple | list) and output else output
            if isinstance(out, torch.Tensor):
                calls.append(_Call(name, tuple(out.shape), len(calls)))

        return record

    for name, module in model.named_modules():
        if name:
            handles.append(module.register_forward_hook(hook(name)))
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            model(example[:1])
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    return calls, counts


def hookable_layers(model: nn.Module, example: torch.Tensor) -> list[str]:
    """Names of the modules whose output is a feature map ``(B, C, h, w)`` or a token
    sequence ``(B, N, D)``: what ``--layer`` accepts, in execution order."""
    calls, _ = trace_outputs(model, example)
    seen: dict[str, None] = {}
    for c in calls:
        if len(c.shape) in (3, 4):
            seen.setdefault(c.name, None)
    return list(seen)


def token_reshape(image_hw: tuple[int, int]) -> Callable[[torch.Tensor], torch.Tensor]:
    """A reshape_transform ``(B, N, D) -> (B, D, gh, gw)`` for an input of ``image_hw`` pixels.

    The patch size is the one for which ``gh * gw = (H // p) * (W // p)`` leaves 0 to 16
    prefix tokens (CLS, distillation, registers); the prefix is dropped, the rest laid out
    row-major (timm's and transformers' order).

    Raises:
        ReprlearnError: no patch size fits the token count.
    """
    height, width = image_hw

    def reshape(tokens: torch.Tensor) -> torch.Tensor:
        if isinstance(tokens, tuple | list):
            tokens = tokens[0]
        n = tokens.shape[1]
        for p in range(1, min(height, width) + 1):
            gh, gw = height // p, width // p
            if 0 <= n - gh * gw <= 16:
                grid = tokens[:, n - gh * gw :, :].reshape(tokens.shape[0], gh, gw, -1)
                return grid.permute(0, 3, 1, 2)
        raise ReprlearnError(
            f"cannot lay {n} tokens out on a grid for a {height}x{width} input; name a "
            "convolutional layer with --layer"
        )

    return reshape


def _layer_error(model: nn.Module, example: torch.Tensor, what: str) -> ReprlearnError:
    names = hookable_layers(model, example)
    shown = ", ".join(names[-40:]) if names else "none"
    more = f" (last 40 of {len(names)})" if len(names) > 40 else ""
    return ReprlearnError(f"{what}; layers that can be hooked{more}: {shown}")


_AFTER_CONV = (nn.ReLU, nn.ReLU6, nn.SiLU, nn.GELU, nn.LeakyReLU, nn.Hardswish, nn.ELU,
               nn.BatchNorm2d, nn.MaxPool2d, nn.AvgPool2d)  # fmt: skip


def _conv_like(module: nn.Module) -> bool:
    """A convolution, a block holding one, or an activation/norm/pool that follows one (not a
    transformer's 4D attention tensors)."""
    return isinstance(module, _AFTER_CONV) or any(
        isinstance(m, nn.Conv2d) for m in module.modules()
    )


def _auto_cnn(calls: list[_Call], counts: dict[str, int], model: nn.Module) -> str | None:
    modules = dict(model.named_modules())
    first_conv = next((c.order for c in calls if isinstance(modules.get(c.name), nn.Conv2d)), None)
    if first_conv is None:
        return None
    maps = [c for c in calls
            if c.order >= first_conv and len(c.shape) == 4 and c.shape[2] * c.shape[3] > 1
            and counts.get(c.name) == 1 and _conv_like(modules[c.name])]  # fmt: skip
    return maps[-1].name if maps else None


def _auto_vit(calls: list[_Call], counts: dict[str, int], model: nn.Module) -> str | None:
    for name, module in reversed(list(model.named_modules())):
        if any(name == s or name.endswith("." + s) for s in _STACK_SUFFIXES) and isinstance(
            module, nn.ModuleList | nn.Sequential
        ):
            children = [f"{name}.{child}" for child, _ in module.named_children()]
            shapes = {c.name: c.shape for c in calls}
            if children and len(shapes.get(children[-1], ())) == 3:
                return _block_input_norm(model, children[-1], shapes) or children[-1]
    return None


def _block_input_norm(model: nn.Module, block: str, shapes: dict) -> str | None:
    """The first LayerNorm inside the last block (timm ``norm1``, transformers
    ``layernorm_before``): with CLS pooling, the last block's own patch-token outputs never
    reach the output, so their gradients are zero; its input norm's do (grad-cam's ViT tutorial
    hooks ``blocks[-1].norm1``)."""
    for name, module in model.get_submodule(block).named_children():
        full = f"{block}.{name}"
        if "Norm" in type(module).__name__ and len(shapes.get(full, ())) == 3:
            return full
    return None


def choose_layer(model: nn.Module, example: torch.Tensor, name: str | None = None) -> LayerChoice:
    """The layer to hook in ``model`` for inputs like ``example`` ``(B, C, H, W)``.

    Args:
        model: the network explained (images -> logits or features).
        example: an input batch (only its first item runs).
        name: a dotted module name (``--layer``); default: chosen as the module docstring says.

    Raises:
        ReprlearnError: an unknown ``name`` (lists the hookable layers), or a model with no
            convolutional or transformer block to hook (e.g. an MLP).
    """
    hw = (int(example.shape[-2]), int(example.shape[-1]))
    if name is not None:
        try:
            module = model.get_submodule(name)
        except AttributeError:
            raise _layer_error(model, example, f"no layer named {name!r} in the model") from None
        calls, _ = trace_outputs(model, example)
        shape = next((c.shape for c in calls if c.name == name), ())
        if len(shape) not in (3, 4):
            raise _layer_error(model, example,
                               f"layer {name!r} gives no feature map (output shape {shape})")  # fmt: skip
        return LayerChoice(name, module, token_reshape(hw) if len(shape) == 3 else None)
    calls, counts = trace_outputs(model, example)
    order = {c.name: c.order for c in calls}
    cnn, vit = _auto_cnn(calls, counts, model), _auto_vit(calls, counts, model)
    if vit is not None and (cnn is None or order[vit] > order[cnn]):  # a ViT's patch conv
        return LayerChoice(vit, model.get_submodule(vit), token_reshape(hw))  # runs first
    if cnn is not None:
        return LayerChoice(cnn, model.get_submodule(cnn))
    raise _layer_error(
        model, example,
        "the model has no convolutional or transformer block to hook (an MLP on pixels has no "
        "spatial feature maps); use a CNN or ViT encoder, or name a layer with --layer",
    )  # fmt: skip
