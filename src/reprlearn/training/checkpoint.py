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
* ``last.ckpt``: Lightning's resume checkpoint (optimiser state, loops), ours only.

Contract for methods: ``method.config()`` returns exactly the keyword options of the
constructor, so ``get_method(name)(backbone=, feat_dim=, input_shape=, **config)``
rebuilds the same module.
"""

from __future__ import annotations

import json
import os
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
    if not path.is_file():
        raise StoreError(
            f"{folder}: not a pretraining run (no config.json); pass the --out folder of "
            "`reprlearn pretrain`"
        )
    config = json.loads(path.read_text())
    if config.get("format") != FORMAT:
        raise StoreError(f"{path}: format {config.get('format')!r}, expected {FORMAT!r}")
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


class ExportCallback(L.Callback):
    """Exports the run (:func:`export_run`) after every training epoch, on rank 0."""

    def __init__(self, folder: str | Path, config: dict[str, Any]) -> None:
        self.folder, self.config = Path(folder), config

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module) -> None:
        if trainer.is_global_zero:
            facts = {**self.config, "epoch": trainer.current_epoch, "step": trainer.global_step}
            export_run(pl_module.method, self.folder, facts)
