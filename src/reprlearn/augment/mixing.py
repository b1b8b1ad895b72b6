"""MixUp and CutMix on batches, through ``torchvision.transforms.v2.MixUp`` / ``CutMix``.

MixUp (Zhang et al. 2018): ``x = lam x_i + (1 - lam) x_j``, ``y = lam e_i + (1 - lam) e_j``,
``lam ~ Beta(alpha, alpha)``. CutMix (Yun et al. 2019): a box of ``x_j`` pasted into ``x_i``,
``lam`` = the share of ``x_i``'s pixels kept (adjusted to the box clipped at the border).
One ``lam`` per batch; the partner ``j`` of image ``i`` is image ``i - 1`` (the batch is
rolled by one, as torchvision and timm do; training batches are shuffled). With both on,
each batch gets CutMix with probability ``switch_prob`` and MixUp otherwise (timm's
``switch_prob``). Labels become soft ``(B, n_classes)`` rows summing to 1, which
``nn.CrossEntropyLoss`` takes as probabilities; its label smoothing then applies on top
(``(1 - eps) y + eps / K``).
"""

from __future__ import annotations

import torch

from reprlearn.augment.recipes import ImageAugment


class BatchMixing:
    """``(images (B, C, H, W), labels (B,)) -> (mixed images, soft labels (B, n_classes))``.

    Random draws from torch's global RNG. ``last`` records the latest batch's operation
    (``"mixup"`` / ``"cutmix"``) and its ``lam`` for captions.

    Raises:
        ValueError: both alphas 0 (nothing to mix) or ``n_classes < 2``.
    """

    def __init__(self, aug: ImageAugment, n_classes: int) -> None:
        from torchvision.transforms import v2

        if not aug.mixes:
            raise ValueError("BatchMixing needs --mixup or --cutmix > 0")
        if n_classes < 2:
            raise ValueError(f"MixUp/CutMix need at least 2 classes, got {n_classes}")
        self.aug, self.n_classes = aug, n_classes
        self.mixup = v2.MixUp(alpha=aug.mixup, num_classes=n_classes) if aug.mixup > 0 else None
        self.cutmix = v2.CutMix(alpha=aug.cutmix, num_classes=n_classes) if aug.cutmix > 0 else None
        self.last: dict[str, float | str] = {}

    def __call__(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        op = self.mixup or self.cutmix
        if self.mixup is not None and self.cutmix is not None:
            op = self.cutmix if float(torch.rand(())) < self.aug.switch_prob else self.mixup
        xm, ym = op(x, y)
        name = "cutmix" if op is self.cutmix else "mixup"
        self.last = {"op": name, "lam": _lam(ym, y)}
        return xm.as_subclass(torch.Tensor), ym


def _lam(soft: torch.Tensor, y: torch.Tensor) -> float:
    """The weight of each image's own label (the first pair whose labels differ; 1.0 when
    every pair shares its label)."""
    partner = y.roll(1, 0)
    differ = (partner != y).nonzero()
    if not len(differ):
        return 1.0
    i = int(differ[0])
    return float(soft[i, y[i]])


def label_weights(soft: torch.Tensor, k: int = 2) -> list[list[tuple[int, float]]]:
    """The ``k`` largest ``(class, weight)`` pairs of each soft label row ``(B, n_classes)``
    (weights > 0 only), for captions."""
    w, c = soft.topk(min(k, soft.shape[1]), dim=1)
    return [[(int(ci), float(wi)) for ci, wi in zip(cr, wr, strict=True) if wi > 1e-6]
            for cr, wr in zip(c, w, strict=True)]  # fmt: skip
