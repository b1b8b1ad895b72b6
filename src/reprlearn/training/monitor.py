"""Per-epoch monitoring of pretraining: kNN accuracy, collapse diagnostics, logs, curves.

After every training epoch (rank 0 only) :class:`PretrainMonitor` embeds the held-out
items and a memory bank of training items with ``method.embed`` (eval mode, fp32), then:

* kNN top-1 accuracy of the held-out items against the bank (cosine, temperature-weighted
  votes, k = 20 by default, 200 for CIFAR-sized data as lightly's benchmarks);
* :func:`~reprlearn.analysis.geometry.normalized_std` and RankMe
  :func:`~reprlearn.analysis.geometry.effective_rank` of the held-out embeddings; when
  the representation collapses, a ``"warning"`` in the record and a red line on the
  terminal;
* appends one JSON line to ``log.jsonl`` and redraws ``curves.png``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch
from rich.console import Console

from reprlearn.analysis.geometry import effective_rank, normalized_std
from reprlearn.evaluation.knn import KNNProbe
from reprlearn.training.collapse import is_collapsed
from reprlearn.training.curves import plot_curves
from reprlearn.training.data import ImageData


@torch.no_grad()
def embed_images(method, images: torch.Tensor, device, batch_size: int = 512) -> torch.Tensor:
    """``method.embed`` of uint8 images ``(N, C, H, W)`` in eval mode -> float32 ``(N, d)`` on CPU."""
    was_training = method.training
    method.eval()
    out = []
    try:
        for chunk in images.split(batch_size):
            x = chunk.to(device).float().div_(255)
            out.append(method.embed(x).float().cpu())
    finally:
        method.train(was_training)
    return torch.cat(out)


def read_log(path: Path) -> list[dict[str, Any]]:
    """The records of a ``log.jsonl`` (empty when absent)."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


class PretrainMonitor(L.Callback):
    """Monitoring callback (see module docstring).

    Args:
        data: the in-memory dataset (held-out split and labels).
        out: run folder for ``log.jsonl`` and ``curves.png``.
        k: kNN neighbours.
        bank_size: at most this many training items form the kNN memory bank.
        collapse_ratio: collapse when ``std * sqrt(d)`` falls below it (default 0.01;
            ReLU features of a healthy small CNN give 0.1-0.5, a collapsed one < 0.01).
        console: where warnings print (default: a rich Console on stderr).
    """

    def __init__(self, data: ImageData, out: Path, *, k: int = 20, bank_size: int = 50_000,
                 collapse_ratio: float = 0.01, console: Console | None = None) -> None:  # fmt: skip
        self.data, self.out, self.k = data, Path(out), k
        self.bank_size, self.collapse_ratio = bank_size, collapse_ratio
        self.console = console or Console(stderr=True)
        self.records: list[dict[str, Any]] = []

    @property
    def log_path(self) -> Path:
        return self.out / "log.jsonl"

    def on_train_start(self, trainer: L.Trainer, pl_module) -> None:
        """Keep the log lines of epochs already done (a resumed run re-does the rest)."""
        if not trainer.is_global_zero:
            return
        self.records = [r for r in read_log(self.log_path) if r["epoch"] < trainer.current_epoch]
        self._write_log()

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module) -> None:
        metrics = pl_module.epoch_metrics()  # every rank: reduced over the DDP ranks
        if not trainer.is_global_zero:
            return
        record = {"epoch": trainer.current_epoch, "step": trainer.global_step}
        record.update(metrics)
        record.update(self.diagnostics(pl_module.method, pl_module.device))
        self.records.append(record)
        self._write_log()
        plot_curves(self.records, self.out / "curves.png")
        if record.get("warning"):
            self.console.print(
                f"[bold red]warning:[/] epoch {record['epoch']}: {record['warning']}"
            )

    def diagnostics(self, method, device) -> dict[str, Any]:
        """kNN accuracy and collapse statistics of the current ``method.embed``."""
        t0 = time.perf_counter()
        d = self.data
        held = d.holdout if len(d.holdout) >= 2 else d.train[:512]
        z = embed_images(method, held, device).float().cpu().numpy()
        std, rank = normalized_std(z), effective_rank(z)
        out: dict[str, Any] = {"embedding_std": std, "std_x_sqrt_dim": std * z.shape[1] ** 0.5,
                               "effective_rank": rank}  # fmt: skip
        if d.train_labels is not None and d.holdout_labels is not None and len(d.holdout):
            bank = embed_images(method, d.train[: self.bank_size], device).float().cpu().numpy()
            labels = np.asarray(d.train_labels[: self.bank_size])
            knn = KNNProbe(k=self.k, backend="torch", device=str(device)).fit(bank, labels)
            out["knn_top1"] = knn.score(z, np.asarray(d.holdout_labels))
        out["collapsed"] = is_collapsed(std, z.shape[1], rank, self.collapse_ratio)
        if out["collapsed"]:
            out["warning"] = (
                f"representation collapsed: std of L2-normalised embeddings x sqrt(d) = "
                f"{out['std_x_sqrt_dim']:.3g} (healthy ~1), effective rank {rank:.2f} of "
                f"{z.shape[1]}. Check the method options (variance term, predictor, EMA), "
                "lower the learning rate or strengthen the augmentations"
            )
        out["monitor_seconds"] = time.perf_counter() - t0
        return out

    def _write_log(self) -> None:
        self.out.mkdir(parents=True, exist_ok=True)
        tmp = self.log_path.with_suffix(".jsonl.tmp")
        tmp.write_text("".join(json.dumps(r) + "\n" for r in self.records))
        tmp.replace(self.log_path)
