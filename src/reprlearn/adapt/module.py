"""The Lightning module that fine-tunes a :class:`~reprlearn.adapt.classifier.FinetuneModel`.

AdamW with a linear warm-up then cosine decay per step (as ``pretrain``); the head at
``lr``, the backbone at the rates of :func:`~reprlearn.adapt.strategies.backbone_param_groups`;
cross-entropy with optional label smoothing (Szegedy et al. 2016). Frozen blocks stay in
eval mode whatever Lightning switches (``train()`` is overridden).
"""

from __future__ import annotations

import time

import lightning as L
import torch
from torch import nn

from reprlearn.adapt.activations import ActivationRecorder
from reprlearn.adapt.classifier import FinetuneModel
from reprlearn.adapt.strategies import Trainable, backbone_param_groups, set_train_mode
from reprlearn.training.distributed import reduce_sums
from reprlearn.training.module import warmup_cosine


class FinetuneModule(L.LightningModule):
    """Trains ``model`` (head + trainable backbone part) with cross-entropy.

    Args:
        model: the classifier model; trainable: what of its backbone trains (None: head only).
        lr: the head's peak learning rate; backbone_lr_mult, layer_decay: the backbone's rates.
        weight_decay: AdamW's decoupled weight decay. warmup_frac: share of steps warming up.
        label_smoothing: cross-entropy label smoothing in [0, 1).
        mixing: a training-batch transform ``(x, y (B,)) -> (x, soft y (B, K))`` (MixUp /
            CutMix, :class:`reprlearn.augment.mixing.BatchMixing`); soft targets go into the
            cross-entropy as probabilities, label smoothing applied on top.
    """

    def __init__(self, model: FinetuneModel, trainable: Trainable | None, *, lr: float,
                 backbone_lr_mult: float = 0.1, layer_decay: float | None = None,
                 weight_decay: float = 0.01, warmup_frac: float = 0.1,
                 label_smoothing: float = 0.0, mixing=None) -> None:  # fmt: skip
        super().__init__()
        self.mixing = mixing
        self.model, self.trainable = model, trainable
        self.lr, self.backbone_lr_mult, self.layer_decay = lr, backbone_lr_mult, layer_decay
        self.weight_decay, self.warmup_frac = weight_decay, warmup_frac
        self.loss_fn = nn.CrossEntropyLoss(label_smoothing=label_smoothing)
        self.recorder = ActivationRecorder(model.head)
        self.train_sums = [0.0, 0, 0]  # loss * n, correct, n
        self.val_sums = [0.0, 0, 0]
        self.epoch_start = time.perf_counter()

    def train(self, mode: bool = True) -> FinetuneModule:
        super().train(mode)
        backbone = self.model.backbone
        if mode and backbone is not None:
            if self.trainable is None:
                backbone.eval()
            else:
                set_train_mode(backbone, self.trainable)
        return self

    def on_train_epoch_start(self) -> None:
        self.train_sums, self.epoch_start = [0.0, 0, 0], time.perf_counter()
        self.recorder.reset()

    def _step(self, batch, sums, mixing=None) -> torch.Tensor:
        x, y = batch
        target = y
        if mixing is not None:  # soft targets; accuracy against each item's heavier label
            x, target = mixing(x, y)
            y = target.argmax(1)
        logits = self.model(x)
        loss = self.loss_fn(logits.float(), target)
        n = len(y)
        sums[0] += float(loss.detach()) * n
        sums[1] += int((logits.argmax(1) == y).sum())
        sums[2] += n
        return loss

    def training_step(self, batch, batch_idx: int) -> torch.Tensor:
        with self.recorder.record():
            loss = self._step(batch, self.train_sums, self.mixing)
        self.log("loss", loss.detach(), prog_bar=True, logger=False)
        return loss

    def on_validation_epoch_start(self) -> None:
        self.val_sums = [0.0, 0, 0]

    def validation_step(self, batch, batch_idx: int) -> None:
        self._step(batch, self.val_sums)

    def on_validation_epoch_end(self) -> None:
        total = reduce_sums(dict(zip(("loss", "correct", "n"), self.val_sums, strict=True)))
        self.val_sums = [total["loss"], total["correct"], total["n"]]  # all DDP ranks' items
        loss, correct, n = self.val_sums
        if n:
            self.log("val_acc", correct / n, prog_bar=True, logger=False)
            self.log("val_loss", loss / n, logger=False)

    def epoch_record(self) -> dict[str, float | None]:
        """This epoch's train/val loss and accuracy, LR, seconds, head activation stats."""
        tl, tc, tn = self.train_sums
        vl, vc, vn = self.val_sums
        return {
            "train_loss": tl / max(tn, 1), "train_acc": tc / max(tn, 1),
            "val_loss": vl / vn if vn else None, "val_acc": vc / vn if vn else None,
            "lr": self.trainer.optimizers[0].param_groups[0]["lr"],
            "seconds": time.perf_counter() - self.epoch_start,
            "head_activations": self.recorder.summary(),
        }  # fmt: skip

    def configure_optimizers(self):
        groups = [{"params": [p for p in self.model.head.parameters() if p.requires_grad],
                   "lr": self.lr, "weight_decay": self.weight_decay}]  # fmt: skip
        if self.model.backbone is not None and self.trainable is not None:
            groups += backbone_param_groups(
                self.model.backbone, self.trainable, self.lr,
                backbone_lr_mult=self.backbone_lr_mult, layer_decay=self.layer_decay,
                weight_decay=self.weight_decay,
            )  # fmt: skip
        opt = torch.optim.AdamW(groups)
        total = max(1, int(self.trainer.estimated_stepping_batches))
        warmup = max(1, int(self.warmup_frac * total))
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: warmup_cosine(s, total, warmup))
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}
