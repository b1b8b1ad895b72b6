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

import contextlib
import math
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import datasets
import lightning as L
import torch

from reprlearn.augment.ssl_views import RECIPES
from reprlearn.augment.ssl_views import recipe as make_recipe
from reprlearn.device import cpu_has_fast_bf16
from reprlearn.errors import ReprlearnError
from reprlearn.outdir import writer_lock
from reprlearn.training.backbones import BACKBONES, build_backbone
from reprlearn.training.checkpoint import EpochCheckpoint, ExportCallback
from reprlearn.training.data import ImageData, InMemoryImages, load_image_data, passthrough
from reprlearn.training.distributed import launched_rank
from reprlearn.training.methods import get_method
from reprlearn.training.module import OPTIMIZERS, PretrainModule
from reprlearn.training.monitor import PretrainMonitor, read_log
from reprlearn.training.options import check_at_least, check_method_options
from reprlearn.training.quiet import quiet_lightning
from reprlearn.training.run_folder import (
    RESUME_CKPT,
    prepare_run_folder,
    record_settings,
    run_state,
)
from reprlearn.training.sync_batchnorm import batchnorm_sync_plugin

PRECISION_ALIASES = {"fp32": "32-true", "bf16": "bf16-mixed", "fp16": "16-mixed"}
LIGHTNING_PRECISIONS = {"32-true", "32", "bf16-mixed", "bf16-true", "16-mixed", "16-true",
                        "64-true", "64", "16", "bf16"}  # fmt: skip


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
    """A random permutation per epoch, seeded by ``(seed, epoch)`` (Lightning calls ``set_epoch``).

    ``shard=True``: under ``torch.distributed``, rank ``r`` of ``W`` takes positions ``r, r +
    W, ...`` of the same permutation (``n // W`` each), so the ranks' step-``k`` batches of
    ``B`` items together are the items one process takes with a batch of ``W * B`` (use it
    with ``Trainer(use_distributed_sampler=False)``; Lightning's own wrapper reshuffles).
    """

    def __init__(self, n: int, seed: int, shard: bool = False) -> None:
        self.n, self.seed, self.epoch, self.shard = n, seed, 0, shard

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def _rank_world(self) -> tuple[int, int]:
        if self.shard and torch.distributed.is_available() and torch.distributed.is_initialized():
            return torch.distributed.get_rank(), torch.distributed.get_world_size()
        return 0, 1

    def __len__(self) -> int:
        return self.n // self._rank_world()[1]

    def __iter__(self):
        g = torch.Generator().manual_seed(self.seed * 1_000_003 + self.epoch)
        rank, world = self._rank_world()
        perm = torch.randperm(self.n, generator=g)
        return iter(perm[rank : (self.n // world) * world : world].tolist())


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
    overwrite: bool = False,
    options_label: str = "method_options",
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
        lr: peak LR (default ``1e-3 * B / 256`` for AdamW, ``0.3 * B / 256`` for LARS/SGD
            as SimCLR, with ``B`` the global batch ``batch_size * devices * num_nodes``).
        devices, num_nodes: Lightning's; DDP is used when ``devices * num_nodes > 1``
            (``accelerator="cpu"``: gloo, one process per device). Each process trains on
            ``batch_size`` items of the same seeded permutation (global batch ``devices *
            num_nodes * batch_size``); the losses gather the global batch
            (:mod:`reprlearn.training.distributed`) and the methods that use BatchNorm
            (SimCLR, BYOL, VICReg) synchronise it over all processes (SyncBatchNorm).
            Lightning's ``ddp`` launcher re-runs the command for ranks 1..; only rank 0
            prepares, locks and writes ``out``.
        precision: ``auto`` (bf16 where fast, see :func:`resolve_precision`) or
            ``fp32|bf16|fp16`` or a Lightning precision string.
        seed: seeds everything (weights, split, sampler, augmentations).
        resume: continue from ``out/last.ckpt`` (exactly, even after kill -9: the interrupted
            epoch is redone with the same randomness); a finished run trains on to ``epochs``.
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
        overwrite: delete the run already in ``out`` first (only a run folder reprlearn
            wrote; never the working directory, a parent or home).
        options_label: how ``method_options`` are named in errors (``--set`` on the CLI).

    The resumable ``out/last.ckpt`` is replaced atomically at every epoch end; the
    exported encoder only once every epoch ran. ``out`` is locked while training
    (:func:`reprlearn.outdir.writer_lock`).

    Returns:
        :class:`PretrainResult`.

    Raises:
        ReprlearnError: a number out of range (``epochs`` < 1, ``batch_size`` < 1, ``lr``
            <= 0, ...), an unknown or mistyped method option; ``out`` holds an unfinished
            run (pass ``resume``) or a finished one (pass ``overwrite``); ``resume`` with
            nothing to resume; another process writes ``out``.
        StoreError: an unsafe (pickled objects) or unreadable ``last.ckpt``.
        DataError: unreadable source.
        ValueError: unknown method, backbone, recipe or optimizer.
        KeyboardInterrupt: Ctrl-C; the last finished epoch's checkpoint stays resumable.
    """
    t0 = time.perf_counter()
    check_numbers(epochs=epochs, batch_size=batch_size, lr=lr, max_items=max_items,
                  num_nodes=num_nodes, image_size=image_size, knn_k=knn_k,
                  weight_decay=weight_decay, warmup_epochs=warmup_epochs)  # fmt: skip
    check_names(backbone=backbone, recipe=recipe, optimizer=optimizer, precision=precision,
                accelerator=accelerator, devices=devices)  # fmt: skip
    cls = get_method(method)  # validates the name before any work
    method_options = check_method_options(cls, method_options, options_label)
    if launched_rank() > 0:  # a DDP worker Lightning started: rank 0 prepared and locked out
        lock, out = contextlib.nullcontext(), Path(out)
    else:
        out = prepare_run_folder(out, resume=resume, overwrite=overwrite, epochs=epochs)
        lock = writer_lock(out)
    with lock:
        if launched_rank() == 0:
            settings = {"source": source if isinstance(source, str) else
                        getattr(source, "_fingerprint", repr(source)),
                        "source_options": source_options or {}, "method": cls.name,
                        "method_options": method_options, "backbone": backbone,
                        "batch_size": batch_size, "lr": lr, "optimizer": optimizer, "seed": seed,
                        "max_items": max_items, "recipe": recipe, "image_size": image_size,
                        "weight_decay": weight_decay, "warmup_epochs": warmup_epochs}  # fmt: skip
            record_settings(out, settings, resume=resume)
        if resume and launched_rank() == 0 and run_state(out) == "finished":
            (out / "config.json").unlink()  # training on: unfinished until the new last epoch
        facts = _fit(
            cls, source, out=out, backbone=backbone, epochs=epochs, batch_size=batch_size,
            lr=lr, devices=devices, num_nodes=num_nodes, precision=precision, seed=seed,
            resume=resume, method_options=method_options, recipe=recipe, max_items=max_items,
            optimizer=optimizer, weight_decay=weight_decay, warmup_epochs=warmup_epochs,
            accelerator=accelerator, source_options=source_options, image_size=image_size,
            knn_k=knn_k, progress=progress, callbacks=callbacks, data=data,
        )  # fmt: skip
    history = read_log(out / "log.jsonl")
    return PretrainResult(out, history, time.perf_counter() - t0, facts)


def check_numbers(**values: float | None) -> None:
    """Refuse out-of-range numeric options of :func:`pretrain` before any work.

    Raises:
        ReprlearnError: names the option (as on the CLI) and the valid range.
    """
    low = {"epochs": 1, "batch_size": 1, "max_items": 2, "num_nodes": 1, "image_size": 1,
           "knn_k": 1, "weight_decay": 0, "warmup_epochs": 0}  # fmt: skip
    for name, value in values.items():
        flag = "--" + name.replace("_", "-")
        if name == "lr":
            check_at_least(flag, value, 0, strict=True)
        else:
            check_at_least(flag, value, low[name])


def check_names(*, backbone: str, recipe: str | None, optimizer: str, precision: str,
                accelerator: str, devices: int | str) -> None:  # fmt: skip
    """Refuse unknown backbone/recipe/optimizer/precision names and devices that this
    machine lacks, before any work.

    Raises:
        ReprlearnError: names the option, the value and the valid choices.
    """
    choices = {"--backbone": (backbone, BACKBONES), "--optimizer": (optimizer, OPTIMIZERS),
               "--recipe": (recipe, (None, *RECIPES)),
               "--accelerator": (accelerator, ("auto", "cpu", "gpu", "cuda", "mps"))}  # fmt: skip
    for flag, (value, valid) in choices.items():
        if value not in valid:
            names = ", ".join(v for v in valid if v is not None)
            raise ReprlearnError(f"{flag}: unknown value {value!r}; choose one of {names}")
    if precision != "auto" and precision not in {*PRECISION_ALIASES, *LIGHTNING_PRECISIONS}:
        raise ReprlearnError(
            f"--precision: unknown value {precision!r}; choose one of auto, "
            f"{', '.join(PRECISION_ALIASES)} (or a Lightning name such as bf16-mixed)"
        )
    if accelerator in ("gpu", "cuda") and not torch.cuda.is_available():
        raise ReprlearnError(
            f"--accelerator {accelerator}: no CUDA GPU is available here; use --accelerator "
            "auto or cpu"
        )
    if str(devices).isdigit() and int(devices) < 1:
        raise ReprlearnError(f"--devices must be at least 1, got {devices}")


def _fit(cls, source, *, out: Path, backbone: str, epochs: int, batch_size: int,
         lr: float | None, devices, num_nodes: int, precision: str, seed: int, resume: bool,
         method_options: dict[str, Any], recipe: str | None, max_items: int | None,
         optimizer: str, weight_decay: float, warmup_epochs: float | None, accelerator: str,
         source_options, image_size, knn_k, progress: bool, callbacks, data) -> dict[str, Any]:  # fmt: skip
    """Load the data, build the method and train it (the body of :func:`pretrain`, run
    under the writer lock of ``out``); returns the run facts."""
    L.seed_everything(seed, workers=True, verbose=False)
    data = data or load_image_data(source, max_items=max_items, seed=seed, image_size=image_size,
                                   source_options=source_options)  # fmt: skip
    c, h, _ = data.input_shape
    mean, std = data.mean_std()
    net, feat_dim = build_backbone(backbone, c, h, mean, std)
    model = cls(backbone=net, feat_dim=feat_dim, input_shape=data.input_shape, **method_options)
    recipe = recipe or default_recipe(data.input_shape, cls.name)
    batch_size = min(batch_size, len(data.train))
    world = (int(devices) if str(devices).isdigit() else 1) * num_nodes
    if lr is None:  # scaled by the global batch (SimCLR: 0.3 x BatchSize / 256)
        lr = (1e-3 if optimizer == "adamw" else 0.3) * batch_size * world / 256
    module = PretrainModule(
        model, make_recipe(recipe, h), lr=lr, optimizer=optimizer, weight_decay=weight_decay,
        warmup_epochs=min(10.0, epochs / 10) if warmup_epochs is None else warmup_epochs,
        seed=seed,
    )  # fmt: skip
    loader = torch.utils.data.DataLoader(
        InMemoryImages(data.train), batch_size=batch_size, drop_last=True,
        sampler=EpochSampler(len(data.train), seed, shard=True), collate_fn=passthrough,
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
        PretrainMonitor(data, out, k=k),  # log.jsonl first, then the checkpoint
        EpochCheckpoint(out),
        ExportCallback(out, facts),
        *(callbacks or []),
    ]
    with quiet_lightning(), lightning_errors():
        trainer = L.Trainer(
            max_epochs=epochs, accelerator=accelerator, devices=devices, num_nodes=num_nodes,
            strategy="ddp" if world > 1 else "auto",
            **(batchnorm_sync_plugin(accelerator) if world > 1 and cls.sync_batchnorm else {}),
            precision=resolve_precision(precision, accelerator), callbacks=run_callbacks,
            logger=False, enable_progress_bar=progress, enable_model_summary=False,
            enable_checkpointing=False, deterministic="warn", default_root_dir=out,
            num_sanity_val_steps=0, use_distributed_sampler=False,  # EpochSampler shards
        )  # fmt: skip
        ckpt = out / RESUME_CKPT if resume else None
        fit_interruptible(trainer, module, loader, ckpt)
    return facts


@contextlib.contextmanager
def lightning_errors():
    """Lightning's configuration errors (devices, accelerator, strategy) as ReprlearnError."""
    from lightning.fabric.utilities.exceptions import MisconfigurationException

    try:
        yield
    except MisconfigurationException as e:
        raise ReprlearnError(f"{e} (check --accelerator, --devices and --num-nodes)") from None


def fit_interruptible(trainer: L.Trainer, module, loader, ckpt: Path | None) -> None:
    """``trainer.fit`` that lets Ctrl-C surface as ``KeyboardInterrupt`` (Lightning turns it
    into ``SystemExit(1)`` and ignores SIGINT from then on; both are undone here).

    Raises:
        KeyboardInterrupt: Ctrl-C.
        ReprlearnError: ``ckpt`` holds weights of another model (a run from before
            ``settings.json`` resumed with other options).
    """
    handler = signal.getsignal(signal.SIGINT)
    try:
        trainer.fit(module, loader, ckpt_path=ckpt, weights_only=True)
    except SystemExit:
        if trainer.interrupted:
            raise KeyboardInterrupt from None
        raise
    except RuntimeError as e:
        if ckpt is None or "state_dict" not in str(e):
            raise
        raise ReprlearnError(
            f"{ckpt} does not fit the model these options build ({str(e).splitlines()[0]}); "
            "resume with the run's --method, --backbone and --set options, or pass "
            "--overwrite to start afresh"
        ) from None
    finally:
        with contextlib.suppress(ValueError, TypeError):  # not the main thread
            signal.signal(signal.SIGINT, handler)


def epochs_for_minutes(minutes: float, seconds_per_epoch: float) -> int:
    """How many epochs fit in ``minutes`` at ``seconds_per_epoch`` (at least 1)."""
    return max(1, math.floor(minutes * 60 / max(seconds_per_epoch, 1e-9)))
