"""Callbacks of a fine-tuning run: ``log.jsonl`` + ``curves.png`` + best-checkpoint export."""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import lightning as L

from reprlearn.adapt.activations import activation_warnings
from reprlearn.adapt.plots import plot_finetune_curves


def read_log(path: Path) -> list[dict[str, Any]]:
    """The records of ``log.jsonl`` (empty when absent; a torn last line is dropped)."""
    if not path.is_file():
        return []
    out = []
    for line in path.read_text().splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            break
    return out


class RunLogger(L.Callback):
    """After each epoch: append the record to ``log.jsonl`` (``curves.png`` at the end), warn
    about vanishing/exploding head activations, and export the run when validation
    accuracy improved (ties: lower validation loss; no validation set: every epoch).

    Args:
        out: the run folder. stage: ``"train"``, or ``"lp"``/``"ft"`` for lp-ft.
        export: called with the epoch number to write the (best) run folder.
    """

    def __init__(self, out: Path, stage: str, export: Callable[[int], None]) -> None:
        self.out, self.stage, self.export = out, stage, export
        self.best_acc, self.best_loss, self.best_epoch = -1.0, float("inf"), -1

    def state_dict(self) -> dict[str, Any]:
        return {"best_acc": self.best_acc, "best_loss": self.best_loss,
                "best_epoch": self.best_epoch}  # fmt: skip

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best_acc, self.best_loss = state["best_acc"], state["best_loss"]
        self.best_epoch = state["best_epoch"]

    def on_train_end(self, trainer: L.Trainer, pl_module) -> None:
        if trainer.is_global_zero:  # drawn once (matplotlib costs more than a head's epoch)
            plot_finetune_curves(read_log(self.out / "log.jsonl"), self.out / "curves.png")

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module) -> None:
        if not trainer.is_global_zero:
            return
        epoch = trainer.current_epoch
        record = {"epoch": epoch, "stage": self.stage, **pl_module.epoch_record()}
        for msg in activation_warnings(record["head_activations"]):
            record.setdefault("warnings", []).append(msg)
            warnings.warn(f"epoch {epoch}: {msg}", RuntimeWarning, stacklevel=1)
        path = self.out / "log.jsonl"
        kept = [r for r in read_log(path)
                if not (r.get("stage") == self.stage and r["epoch"] >= epoch)]  # fmt: skip
        records = [*kept, record]
        tmp = path.with_name(".log.jsonl.tmp")
        tmp.write_text("".join(json.dumps(r) + "\n" for r in records))
        tmp.replace(path)
        acc, loss = record["val_acc"], record["val_loss"]
        if acc is None or acc > self.best_acc or (acc == self.best_acc and loss < self.best_loss):
            self.best_acc = -1.0 if acc is None else acc
            self.best_loss = float("inf") if loss is None else loss
            self.best_epoch = epoch
            self.export(epoch)


class EpochCheckpoint(L.Callback):
    """Saves Lightning's resume checkpoint ``folder/name.ckpt`` after every training epoch
    (atomically: a temp file renamed into place), so a ``kill -9`` loses at most the epoch
    in progress. (Lightning's ``ModelCheckpoint(save_top_k=0, save_last=True)`` only
    writes ``last.ckpt`` at the end of training since 2.5.)"""

    def __init__(self, folder: Path, name: str = "last") -> None:
        self.path = Path(folder) / f"{name}.ckpt"

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module) -> None:
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        trainer.save_checkpoint(tmp, weights_only=False)  # with optimiser state, for resume
        if trainer.is_global_zero:
            tmp.replace(self.path)
