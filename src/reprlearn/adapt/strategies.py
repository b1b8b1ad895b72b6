"""Fine-tuning strategies, each defined once (names as in the literature).

* ``freeze`` (linear probing / feature extraction): the backbone is frozen in eval mode
  and its features are computed once (through the embedding store); only the head trains.
* ``partial``: the top ``unfreeze`` blocks (:func:`~reprlearn.adapt.blocks.discover_blocks`)
  train, the rest is frozen and stays in eval mode (BatchNorm statistics untouched).
* ``full``: everything trains; the backbone at ``lr * backbone_lr_mult`` or with
  layer-wise decay ``lr * layer_decay ** (depth from the top)`` (BEiT, Bao et al. 2022).
* ``lp-ft``: linear probing then fine-tuning (Kumar et al., ICLR 2022): the head trains on
  the frozen backbone to convergence, then everything trains from that head at a small rate.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from reprlearn.adapt.blocks import discover_blocks
from reprlearn.errors import ReprlearnError

STRATEGIES = ("freeze", "partial", "full", "lp-ft")


@dataclass
class Trainable:
    """Which parts of a backbone train: ``blocks`` are trainable, the rest frozen in eval mode.

    ``everything`` (full, lp-ft's second stage) trains the whole backbone; ``blocks`` then
    lists all blocks (for layer-wise decay).
    """

    everything: bool
    blocks: list[tuple[str, nn.Module]]


def check_strategy(strategy: str, encoder_name: str, is_torch: bool) -> None:
    """Raise a clear error for an unknown strategy or one the encoder cannot take.

    Raises:
        ReprlearnError: unknown strategy, or not ``freeze`` for a classical fitted encoder.
    """
    if strategy not in STRATEGIES:
        raise ReprlearnError(
            f"unknown --strategy {strategy!r}; choose one of {', '.join(STRATEGIES)}"
        )
    if strategy != "freeze" and not is_torch:
        raise ReprlearnError(
            f"encoder {encoder_name!r} is a classical fitted encoder with no trainable "
            f"backbone: it supports --strategy freeze only, not {strategy!r}"
        )


def apply_strategy(backbone: nn.Module, strategy: str, unfreeze: int = 1) -> Trainable:
    """Set ``requires_grad`` on ``backbone``'s parameters for ``strategy``.

    Args:
        backbone: the encoder's ``nn.Module``.
        strategy: ``freeze`` | ``partial`` | ``full`` | ``lp-ft`` (lp-ft's fine-tuning stage
            is ``full``; its probing stage is ``freeze``).
        unfreeze: ``partial``: number of top blocks to train (>= 1).

    Returns:
        :class:`Trainable`.

    Raises:
        ReprlearnError: ``partial`` on a backbone with no discoverable blocks, or
            ``unfreeze`` outside ``1..n_blocks``.
    """
    everything = strategy in ("full", "lp-ft")
    for p in backbone.parameters():
        p.requires_grad_(everything)
    blocks = discover_blocks(backbone) if strategy != "freeze" else []
    if strategy == "partial":
        if not blocks:
            raise ReprlearnError(
                f"found no blocks in {type(backbone).__name__} for --strategy partial; "
                "use --strategy full or freeze"
            )
        if not 1 <= unfreeze <= len(blocks):
            raise ReprlearnError(
                f"--unfreeze {unfreeze}: the backbone has {len(blocks)} blocks; "
                f"choose 1..{len(blocks)} (see --list-blocks)"
            )
        blocks = blocks[-unfreeze:]
        for _, block in blocks:
            for p in block.parameters():
                p.requires_grad_(True)
    return Trainable(everything, blocks)


def set_train_mode(backbone: nn.Module, trainable: Trainable) -> None:
    """``train()`` the trainable part only: frozen blocks (and their BatchNorm) stay in eval."""
    if trainable.everything:
        backbone.train()
        return
    backbone.eval()
    for _, block in trainable.blocks:
        block.train()


def backbone_param_groups(
    backbone: nn.Module,
    trainable: Trainable,
    lr: float,
    *,
    backbone_lr_mult: float = 0.1,
    layer_decay: float | None = None,
    weight_decay: float = 0.01,
) -> list[dict]:
    """AdamW parameter groups for the trainable backbone parameters.

    Without ``layer_decay`` every backbone parameter gets ``lr * backbone_lr_mult``. With
    it, block ``i`` of ``n`` (0 = input side) gets ``lr * layer_decay ** (n - i)`` and
    parameters outside the blocks (embeddings, stem) ``lr * layer_decay ** (n + 1)``.
    """
    params = [p for p in backbone.parameters() if p.requires_grad]
    if not params:
        return []
    if layer_decay is None:
        return [{"params": params, "lr": lr * backbone_lr_mult, "weight_decay": weight_decay}]
    blocks = discover_blocks(backbone)
    n = len(blocks)
    groups, seen = [], set()
    for i, (_, block) in enumerate(blocks):
        ps = [p for p in block.parameters() if p.requires_grad and id(p) not in seen]
        seen.update(id(p) for p in ps)
        if ps:
            groups.append({"params": ps, "lr": lr * layer_decay ** (n - i),
                           "weight_decay": weight_decay})  # fmt: skip
    rest = [p for p in params if id(p) not in seen]
    if rest:
        groups.append({"params": rest, "lr": lr * layer_decay ** (n + 1),
                       "weight_decay": weight_decay})  # fmt: skip
    return groups
