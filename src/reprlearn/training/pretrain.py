"""``pretrain``: self-supervised pretraining of a backbone on an image source, end to end.

Signature (stable; other methods such as ``ae``/``vae`` plug in through
``reprlearn.training.methods``)::

    pretrain(source, method="simclr", backbone="small_cnn", out="runs/run", epochs=10,
             batch_size=256, lr=None, devices=1, num_nodes=1, precision="auto", seed=0,
             resume=False, method_options=None, recipe=None, max_items=None, ...)
        -> PretrainResult

The method is built as ``get_method(method)(backbone=..., feat_dim=..., input_shape=(C, H,
W), **method_options)``. The run folder ``out`` receives ``log.jsonl`` (one JSON line per
epoch), ``curves.png``, ``last.ckpt`` (Lightning, for ``resume``) and the exported encoder
(``config.json`` + ``backbone.safetensors`` + ``method.safetensors``; format in
:mod:`reprlearn.training.checkpoint`), loadable as ``ckpt:<out>``.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import datasets
import lightning as L
import torch

from reprlearn.device import cpu_has_fast_bf16
from reprlearn.errors import ReprlearnError
from reprlearn.training.augmentations import recipe as make_recipe
from reprlearn.training.backbones import build_backbone
from reprlearn.training.checkpoint import ExportCallback
from reprlearn.training.data import ImageData, InMemoryImages, load_image_data, passthrough
from reprlearn.training.methods import get_method
from reprlearn.training.module import PretrainModule
from reprlearn.training.monitor import PretrainMonitor, read_log

PRECISION_ALIASES = {"fp32": "32-true", "bf16": "bf16-mixed", "fp16": "16-mixed"}


@dataclass
class PretrainResult:
    """What :func:`pretrain` produced.

    Attributes:
        out: the run folder; ``encoder`` = ``"ckpt:<out>"`` loads the trained backbone.
        history: the ``log.jsonl`` records (one per epoch: loss, knn_top1, effective_rank, ...).
        seconds: wall time of this call (s).
        config: the exported ``config.json`` facts.
    """

    out: Path
    history: list[dict[str, Any]]
    seconds: float
    config: dict[str, Any] = field(default_factory=dict)

    @property
    def encoder(self) -> str:
        return f"ckpt:{self.out}"

    @property
    def final(self) -> dict[str, Any]:
        """The last epoch's record (empty if none)."""
        return self.history[-1] if self.history else {}


class EpochSampler(torch.utils.data.Sampler[int]):
    """A random permutation per epoch, seeded by ``(seed, epoch)`` (Lightning calls ``set_epoch``)."""

    def __init__(self, n: int, seed: int) -> None:
        self.n, self.seed, self.epoch = n, seed, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return self.n

    def __iter__(self):
        g = torch.Generator().manual_seed(self.seed * 1_000_003 + self.epoch)
        return iter(torch.randperm(self.n, generator=g).tolist())


def resolve_precision(precision: str, accelerator: str = "auto") -> str:
    """``auto`` -> ``bf16-mixed`` on CUDA with bf16 or on CPUs with AMX/AVX512-BF16, else
    ``32-true``; ``fp32|bf16|fp16`` map to Lightning's names; others pass through."""
    if precision != "auto":
        return PRECISION_ALIASES.get(precision, precision)
    cuda = torch.cuda.is_available() and accelerator in ("auto", "gpu", "cuda")
    if cuda:
        return "bf16-mixed" if torch.cuda.is_bf16_supported() else "16-mixed"
    return "bf16-mixed" if cpu_has_fast_bf16() else "32-true"


def default_recipe(input_shape: tuple[int, int, int], method: str) -> str:
    """``digits`` for small grayscale images (<= 16 px), else the method's own recipe or ``simclr``."""
    c, h, _ = input_shape
    if c == 1 and h <= 16:
        return "digits"
    return method if method in ("simclr", "byol", "vicreg") else "simclr"


def pretrain(
    source: str | datasets.Dataset,
    method: str = "simclr",
    backbone: str = "small_cnn",
    out: str | Path = "runs/run",
    epochs: int = 10,
    batch_size: int = 256,
    lr: float | None = None,
    devices: int | str = 1,
    num_nodes: int = 1,
    precision: str = "auto",
    seed: int = 0,
    resume: bool = False,
    method_options: dict[str, Any] | None = None,
    recipe: str | None = None,
    max_items: int | None = None,
    *,
    optimizer: str = "adamw",
    weight_decay: float = 1e-4,
    warmup_epochs: float | None = None,
    accelerator: str = "auto",
    source_options: dict[str, Any] | None = None,
    image_size: int | None = None,
    knn_k: int | None = None,
    progress: bool = True,
    callbacks: list[L.Callback] | None = None,
    data: ImageData | None = None,
) -> PretrainResult:
    """Pretrain ``backbone`` with ``method`` on the images of ``source``.

    Args:
        source: a ``reprlearn.data.load_dataset`` source (``digits``, ``cifar10``, a
            folder/parquet) or a Dataset with an ``image`` column.
        method: a registered method (``simclr``, ``vicreg``, ``byol``, ``ae``, ``vae``...).
        backbone: ``small_cnn`` | ``resnet18_cifar`` | ``mlp``.
        out: run folder (created).
        epochs: total epochs (the LR and BYOL-EMA schedules span them).
        batch_size: per device (clipped to the training set size).
        lr: peak LR (default ``1e-3 * batch_size / 256`` for AdamW, ``0.3 * batch_size/256``
            for LARS/SGD as SimCLR).
        devices, num_nodes: Lightning's; DDP is used when ``devices * num_nodes > 1``.
        precision: ``auto`` (bf16 where fast, see :func:`resolve_precision`) or
            ``fp32|bf16|fp16`` or a Lightning precision string.
        seed: seeds everything (weights, split, sampler, augmentations).
        resume: continue from ``out/last.ckpt`` (exactly, even after kill -9: the interrupted
            epoch is redone with the same randomness).
        method_options: keyword options of the method (e.g. ``{"temperature": 0.2}``).
        recipe: augmentation recipe (default: :func:`default_recipe`).
        max_items: train on a seeded random subset of this size.
        optimizer, weight_decay, warmup_epochs: optimiser settings (warm-up default
            ``min(10, epochs / 10)`` epochs).
        accelerator: Lightning's (``auto``, ``cpu``, ``gpu``).
        source_options: extra ``load_dataset`` options (``split``, ``data_dir``...).
        image_size: resize images to this size (default: keep).
        knn_k: monitor's kNN k (default 20, 200 from 10,000 training items).
        progress: show Lightning's progress bar.
        callbacks: extra Lightning callbacks.
        data: an already loaded :class:`ImageData` (skips loading ``source``).

    Returns:
        :class:`PretrainResult`.

    Raises:
        ReprlearnError: ``out`` already holds a run and ``resume`` is False, or ``resume``
            without a ``last.ckpt``.
        DataError: unreadable source.
        ValueError: unknown method, backbone, recipe or optimizer.
    """
    t0 = time.perf_counter()
    out = Path(out)
    ckpt = out / "last.ckpt"
    if resume and not ckpt.exists():
        raise ReprlearnError(f"{out}: nothing to resume (no last.ckpt); drop --resume to start")
    if not resume and (ckpt.exists() or (out / "config.json").exists()):
        raise ReprlearnError(
            f"{out} already holds a run: pass --resume to continue it or a new --out"
        )
    L.seed_everything(seed, workers=True, verbose=False)
    data = data or load_image_data(source, max_items=max_items, seed=seed, image_size=image_size,
                                   source_options=source_options)  # fmt: skip
    cls = get_method(method)  # validates the name before any work
    c, h, _ = data.input_shape
    mean, std = data.mean_std()
    net, feat_dim = build_backbone(backbone, c, h, mean, std)
    model = cls(
        backbone=net, feat_dim=feat_dim, input_shape=data.input_shape, **(method_options or {})
    )
    recipe = recipe or default_recipe(data.input_shape, method)
    batch_size = min(batch_size, len(data.train))
    if lr is None:
        lr = (1e-3 if optimizer == "adamw" else 0.3) * batch_size / 256
    module = PretrainModule(
        model, make_recipe(recipe, h), lr=lr, optimizer=optimizer, weight_decay=weight_decay,
        warmup_epochs=min(10.0, epochs / 10) if warmup_epochs is None else warmup_epochs,
        seed=seed,
    )  # fmt: skip
    loader = torch.utils.data.DataLoader(
        InMemoryImages(data.train), batch_size=batch_size, drop_last=True,
        sampler=EpochSampler(len(data.train), seed), collate_fn=passthrough,
        pin_memory=torch.cuda.is_available(),
    )  # fmt: skip
    facts = {
        "backbone": backbone, "input_shape": list(data.input_shape),
        "normalization": {"mean": mean, "std": std}, "recipe": recipe, "source": data.source,
        "label_names": data.label_names, "seed": seed, "epochs": epochs,
        "batch_size": batch_size, "lr": lr, "optimizer": optimizer,
    }  # fmt: skip
    k = knn_k or (200 if len(data.train) >= 10_000 else 20)
    run_callbacks = [
        PretrainMonitor(data, out, k=k),
        ExportCallback(out, facts),
        L.pytorch.callbacks.ModelCheckpoint(dirpath=out, save_last=True, save_top_k=0),
        *(callbacks or []),
    ]
    world = (int(devices) if str(devices).isdigit() else 1) * num_nodes
    trainer = L.Trainer(
        max_epochs=epochs, accelerator=accelerator, devices=devices, num_nodes=num_nodes,
        strategy="ddp" if world > 1 else "auto", precision=resolve_precision(precision, accelerator),
        callbacks=run_callbacks, logger=False, enable_progress_bar=progress,
        enable_model_summary=False, deterministic="warn", default_root_dir=out,
        num_sanity_val_steps=0, use_distributed_sampler=world > 1,
    )  # fmt: skip
    out.mkdir(parents=True, exist_ok=True)
    trainer.fit(module, loader, ckpt_path=ckpt if resume else None, weights_only=True)
    history = read_log(out / "log.jsonl")
    return PretrainResult(out, history, time.perf_counter() - t0, facts)


def epochs_for_minutes(minutes: float, seconds_per_epoch: float) -> int:
    """How many epochs fit in ``minutes`` at ``seconds_per_epoch`` (at least 1)."""
    return max(1, math.floor(minutes * 60 / max(seconds_per_epoch, 1e-9)))
