"""The exported run format: what ``ckpt:RUN_FOLDER`` encoders load (never a pickle).

A run folder written by :func:`reprlearn.training.pretrain.pretrain` holds:

* ``config.json``::

      {"format": "reprlearn-pretrain/1",
       "method": "simclr", "method_config": {...},      # Method.config()
       "backbone": "small_cnn", "input_shape": [C, H, W], "feat_dim": 128,
       "normalization": {"mean": [...], "std": [...]},  # per channel, [0, 1] units
       "recipe": "digits", "source": {...load_dataset kwargs...}, "label_names": [...],
       "epoch": 9, "step": 50, "seed": 0}

* ``backbone.safetensors``: ``method.backbone.state_dict()`` (its first module,
  ``Normalize``, carries mean/std as buffers);
* ``method.safetensors``: the whole ``method.state_dict()`` (projectors, BYOL's target,
  an AE/VAE's encoder head), so :func:`load_run` rebuilds any method and ``embed`` works;
* ``last.ckpt``: Lightning's resume checkpoint (optimiser state, loops), ours only,
  replaced atomically at every epoch end (:class:`EpochCheckpoint`) and loaded with
  ``torch.load(weights_only=True)`` (:func:`load_resume_checkpoint`).

The exported files are written only when every epoch ran (:class:`ExportCallback`), so a
folder with ``config.json`` holds a finished run and one with only ``last.ckpt`` an
unfinished one (:mod:`reprlearn.training.run_folder`).

Contract for methods: ``method.config()`` returns exactly the keyword options of the
constructor, so ``get_method(name)(backbone=, feat_dim=, input_shape=, **config)``
rebuilds the same module.
"""

from __future__ import annotations

import json
import os
import pickle
import re
from pathlib import Path
from typing import Any

import lightning as L
import torch
from safetensors.torch import load_file, save_file

from reprlearn.errors import StoreError
from reprlearn.training.backbones import build_backbone
from reprlearn.training.methods import Method, get_method

FORMAT = "reprlearn-pretrain/1"


def _tensors(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().to("cpu", copy=True).contiguous() for k, v in module.state_dict().items()}


def _atomic(path: Path, write) -> None:
    tmp = path.with_name(path.name + ".tmp")
    write(tmp)
    os.replace(tmp, path)


def export_run(method: Method, folder: str | Path, config: dict[str, Any]) -> None:
    """Write ``config.json``, ``backbone.safetensors`` and ``method.safetensors`` to ``folder``.

    ``config`` holds the run facts (backbone, input_shape, normalization, ...); this adds
    ``format``, ``method``, ``method_config`` and ``feat_dim``. Each file is replaced
    atomically.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    full = {"format": FORMAT, "method": method.name, "method_config": method.config(),
            "feat_dim": method.feat_dim, **config}  # fmt: skip
    _atomic(folder / "backbone.safetensors", lambda p: save_file(_tensors(method.backbone), p))
    _atomic(folder / "method.safetensors", lambda p: save_file(_tensors(method), p))
    _atomic(folder / "config.json", lambda p: p.write_text(json.dumps(full, indent=1)))


def read_config(folder: str | Path) -> dict[str, Any]:
    """``folder/config.json`` of an exported run.

    Raises:
        StoreError: no ``config.json`` or an unknown format.
    """
    path = Path(folder) / "config.json"
    if not Path(folder).is_dir():
        raise StoreError(
            f"{folder}: no such run folder; pass the --out folder of `reprlearn pretrain`"
        )
    if not path.is_file():
        if (Path(folder) / "last.ckpt").is_file():
            raise StoreError(
                f"{folder}: the pretraining run is unfinished (no exported encoder yet); "
                "finish it with `reprlearn pretrain ... --resume` on the same --out"
            )
        raise StoreError(
            f"{folder}: not a pretraining run (no config.json); pass the --out folder of "
            "`reprlearn pretrain`"
        )
    try:
        config = json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError) as e:
        raise StoreError(f"{path}: not valid JSON ({e}); rerun `reprlearn pretrain`") from None
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        found = config.get("format") if isinstance(config, dict) else type(config).__name__
        raise StoreError(f"{path}: format {found!r}, expected {FORMAT!r}")
    missing = [k for k in ("method", "backbone", "input_shape") if k not in config]
    if missing:
        raise StoreError(f"{path}: lacks {', '.join(missing)}; rerun `reprlearn pretrain`")
    return config


def load_run(folder: str | Path) -> tuple[Method, dict[str, Any]]:
    """Rebuild the trained method of a run folder (eval mode, CPU) and return it with its config.

    Raises:
        StoreError: missing/invalid files, or weights that do not fit the config.
    """
    folder = Path(folder)
    config = read_config(folder)
    c, h, _ = config["input_shape"]
    norm = config.get("normalization") or {}
    backbone, feat_dim = build_backbone(config["backbone"], c, h, norm.get("mean"), norm.get("std"))
    cls = get_method(config["method"])
    method = cls(backbone=backbone, feat_dim=feat_dim, input_shape=tuple(config["input_shape"]),
                 **config.get("method_config", {}))  # fmt: skip
    weights = folder / "method.safetensors"
    if not weights.is_file():
        raise StoreError(
            f"{folder}: method.safetensors is missing; the run did not finish an epoch"
        )
    try:
        method.load_state_dict(load_file(weights), strict=True)
    except RuntimeError as e:
        raise StoreError(f"{weights}: weights do not match config.json ({e})") from None
    return method.eval(), config


def load_resume_checkpoint(path: str | Path) -> dict[str, Any]:
    """Load a resume checkpoint with ``torch.load(weights_only=True)`` (never unpickles code).

    Raises:
        StoreError: the file holds pickled Python objects beyond tensors and plain values
            (unsafe: loading it could run code), or is truncated/corrupt; the message names
            the file and the fix.
    """
    path = Path(path)
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:
        found = re.search(r"GLOBAL ([\w.]+)", str(e))
        what = f" (it references {found.group(1)})" if found else ""
        raise StoreError(
            f"{path} is unsafe to load: it contains pickled Python objects beyond tensors"
            f"{what}, and unpickling them could run arbitrary code. reprlearn did not write "
            "it; pass --overwrite to start the run afresh"
        ) from None
    except (RuntimeError, EOFError, OSError) as e:
        raise StoreError(
            f"{path} is not a readable checkpoint ({str(e).splitlines()[0]}); pass "
            "--overwrite to start the run afresh"
        ) from None


class EpochCheckpoint(L.Callback):
    """Saves Lightning's resume checkpoint ``folder/last.ckpt`` after every training epoch,
    atomically (a dot-file, then ``os.replace``), so a kill -9 leaves the previous epoch's
    checkpoint or the new one, never a partial file."""

    def __init__(self, folder: str | Path) -> None:
        self.path = Path(folder) / "last.ckpt"

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module) -> None:
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        trainer.save_checkpoint(tmp)  # all ranks call it; rank 0 writes
        if trainer.is_global_zero:
            os.replace(tmp, self.path)


class ExportCallback(L.Callback):
    """Exports the run (:func:`export_run`) once every epoch ran (``max_epochs`` reached),
    on rank 0; ``config.json`` gets ``epoch`` (the last one, 0-based) and ``step``."""

    def __init__(self, folder: str | Path, config: dict[str, Any]) -> None:
        self.folder, self.config = Path(folder), config

    def on_train_end(self, trainer: L.Trainer, pl_module) -> None:
        complete = trainer.max_epochs is not None and trainer.current_epoch >= trainer.max_epochs
        if trainer.is_global_zero and complete:
            facts = {**self.config, "epoch": trainer.current_epoch - 1, "step": trainer.global_step}
            export_run(pl_module.method, self.folder, facts)
