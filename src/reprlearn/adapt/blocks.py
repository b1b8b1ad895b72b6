"""Block discovery: the ordered stack of repeated blocks of a backbone (input -> output).

``partial`` fine-tuning unfreezes the top K of these blocks, and layer-wise learning-rate
decay (BEiT, Bao et al. 2022; MAE, He et al. 2022) gives each block its own rate. Found,
in this order:

1. transformers / sentence-transformers encoders: ``encoder.layer`` (BERT, MiniLM),
   ``encoder.layers``, ``layers``, ``h`` (GPT-2); timm: ``blocks`` (ViT, EfficientNet),
   ``stages`` (ConvNeXt, RegNet);
2. ResNets (torchvision, timm, our ``resnet18_cifar``): ``layer1`` ... ``layerN``;
3. our own flat backbones (``small_cnn``, ``mlp``): the largest ``nn.Sequential`` split
   before each ``Conv``/``Linear`` layer, so a block is ``Conv -> BN -> ReLU [-> pool]``.
"""

from __future__ import annotations

import re

from torch import nn

STACK_NAMES = ("encoder.layer", "encoder.layers", "layers", "blocks", "stages", "h")
_RESNET_STAGE = re.compile(r"(^|\.)layer\d+$")
_WEIGHTED = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)


def _search_root(model: nn.Module) -> nn.Module:
    """Our pretraining methods hold the backbone beside projectors: search only the backbone."""
    backbone = getattr(model, "backbone", None)
    return backbone if isinstance(backbone, nn.Module) else model


def _stack(root: nn.Module) -> list[tuple[str, nn.Module]]:
    """The outermost ``ModuleList``/``Sequential`` named as in :data:`STACK_NAMES` (ConvNeXt's
    ``stages`` rather than the ``stages.0.blocks`` inside them)."""
    found = []
    for name, module in root.named_modules():
        for rank, suffix in enumerate(STACK_NAMES):
            if (name == suffix or name.endswith("." + suffix)) and isinstance(
                module, nn.ModuleList | nn.Sequential
            ):
                if len(list(module.children())) >= 2:
                    found.append((name.count("."), rank, name, module))
                break
    if not found:
        return []
    _, _, name, module = min(found, key=lambda f: (f[0], f[1]))
    return [(f"{name}.{child}", m) for child, m in module.named_children()]


def _resnet_stages(root: nn.Module) -> list[tuple[str, nn.Module]]:
    found = [(n, m) for n, m in root.named_modules() if _RESNET_STAGE.search(n)]
    return sorted(found, key=lambda nm: int(re.findall(r"\d+$", nm[0])[0]))


def _flat_sequential(root: nn.Module) -> list[tuple[str, nn.Module]]:
    best: tuple[str, nn.Sequential] | None = None
    for name, module in root.named_modules():
        if isinstance(module, nn.Sequential):
            n = sum(isinstance(c, _WEIGHTED) for c in module.children())
            if n >= 2 and (best is None or n > sum(isinstance(c, _WEIGHTED) for c in best[1])):
                best = (name, module)
    if best is None:
        return []
    name, seq = best
    blocks: list[tuple[str, nn.Module]] = []
    current: list[nn.Module] = []
    start = 0
    for i, child in enumerate(seq.children()):
        if (
            isinstance(child, _WEIGHTED)
            and current
            and any(isinstance(c, _WEIGHTED) for c in current)
        ):
            blocks.append((f"{name}[{start}:{i}]".lstrip("."), nn.ModuleList(current)))
            current, start = [], i
        current.append(child)
    if current:
        blocks.append((f"{name}[{start}:{len(seq)}]".lstrip("."), nn.ModuleList(current)))
    return blocks


def discover_blocks(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """The backbone's blocks as ``(name, module)``, from the input side to the output side.

    Args:
        model: a backbone (timm, torchvision, transformers, sentence-transformers, or a
            ``reprlearn pretrain`` method/backbone).

    Returns:
        The blocks; empty when no repeated structure is found.
    """
    root = _search_root(model)
    for finder in (_stack, _resnet_stages, _flat_sequential):
        blocks = finder(root)
        if blocks:
            return blocks
    return []


def count_parameters(module: nn.Module, trainable_only: bool = False) -> int:
    """Number of parameters of ``module`` (only ``requires_grad`` ones when asked)."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad or not trainable_only)
