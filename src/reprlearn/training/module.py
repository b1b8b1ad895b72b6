"""The Lightning module that trains any :class:`~reprlearn.training.methods.Method`.

Per batch: uint8 images -> floats in [0, 1] on the device -> ``method.training_loss(x,
augment)`` -> optimiser step (AdamW, SGD or LARS; linear warm-up then cosine decay per
step, as SimCLR/BYOL/VICReg) -> ``method.after_optimizer_step``. Augmentation randomness is
re-seeded from ``(seed, epoch, rank)`` at each epoch start, so an epoch is reproducible and
a resumed run continues exactly as an uninterrupted one.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict

import lightning as L
import torch

from reprlearn.augment.ssl_views import Recipe
from reprlearn.training.distributed import reduce_max, reduce_sums
from reprlearn.training.lars import LARS
from reprlearn.training.methods.base import Method

OPTIMIZERS = ("adamw", "sgd", "lars")


def warmup_cosine(step: int, total: int, warmup: int) -> float:
    """LR multiplier: linear from ``1/warmup`` to 1 over ``warmup`` steps, then cosine to 0."""
    if step < warmup:
        return (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))


class PretrainModule(L.LightningModule):
    """Wraps ``method`` with its augmentation, optimiser and schedule.

    Args:
        method: the method being trained (its ``backbone`` is what gets exported).
        augment: the augmentation :class:`Recipe` (batched, on the batch's device).
        lr: peak learning rate.
        optimizer: ``adamw`` (default) | ``sgd`` (momentum 0.9) | ``lars``.
        weight_decay: decoupled (AdamW) or L2 (SGD/LARS) weight decay.
        warmup_epochs: linear warm-up length in epochs (may be fractional).
        seed: base seed of the per-epoch augmentation randomness.
    """

    def __init__(self, method: Method, augment: Recipe, *, lr: float, optimizer: str = "adamw",
                 weight_decay: float = 1e-4, warmup_epochs: float = 1.0, seed: int = 0) -> None:  # fmt: skip
        super().__init__()
        if optimizer not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer {optimizer!r}; choose one of {OPTIMIZERS}")
        self.method, self.augment = method, augment
        self.lr, self.optimizer_name, self.weight_decay = lr, optimizer, weight_decay
        self.warmup_epochs, self.seed = warmup_epochs, seed
        self.sums: dict[str, float] = defaultdict(float)
        self.batches = self.items = 0
        self.epoch_start = time.perf_counter()

    def on_train_epoch_start(self) -> None:
        epoch_seed = self.seed * 1_000_003 + self.current_epoch * 7919 + self.global_rank
        self.augment.reseed(epoch_seed, self.device)
        self.sums.clear()
        self.batches = self.items = 0
        self.epoch_start = time.perf_counter()

    def training_step(self, batch: torch.Tensor, batch_idx: int) -> torch.Tensor:
        x = batch.float().div_(255) if batch.dtype == torch.uint8 else batch.float()
        out = self.method.training_loss(x, self.augment)
        for key, value in out.items():
            self.sums[key] += float(value.detach())
        self.batches += 1
        self.items += len(x)
        self.log("loss", out["loss"].detach(), prog_bar=True, logger=False)
        return out["loss"]

    def on_train_batch_end(self, outputs, batch, batch_idx: int) -> None:
        total = int(self.trainer.estimated_stepping_batches)
        self.method.after_optimizer_step(self.global_step - 1, total)

    def epoch_metrics(self) -> dict[str, float]:
        """Means over this epoch's batches (of every rank under DDP: all ranks must call
        it) plus timing (the slowest rank's), items/s of the global batch and the LR."""
        seconds = reduce_max(time.perf_counter() - self.epoch_start)
        sums = reduce_sums({**self.sums, "_batches": self.batches, "_items": self.items})
        batches, items = sums.pop("_batches"), sums.pop("_items")
        out = {k: v / max(batches, 1) for k, v in sums.items()}
        out["train_seconds"] = seconds
        out["items_per_s"] = items / seconds if seconds > 0 else 0.0
        out["lr"] = self.trainer.optimizers[0].param_groups[0]["lr"]
        return out

    def configure_optimizers(self):
        params = [p for p in self.method.parameters() if p.requires_grad]
        if self.optimizer_name == "adamw":
            opt = torch.optim.AdamW(params, lr=self.lr, weight_decay=self.weight_decay)
        elif self.optimizer_name == "sgd":
            opt = torch.optim.SGD(params, lr=self.lr, momentum=0.9, weight_decay=self.weight_decay)
        else:
            opt = LARS(params, lr=self.lr, weight_decay=self.weight_decay)
        total = int(self.trainer.estimated_stepping_batches)
        per_epoch = total / max(1, self.trainer.max_epochs)
        warmup = max(1, int(self.warmup_epochs * per_epoch))
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: warmup_cosine(s, total, warmup))
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}
