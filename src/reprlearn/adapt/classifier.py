"""The classifier (backbone + head) and its run folder, loadable as a classifier or encoder.

A ``finetune`` run folder holds (never a pickle):

* ``config.json``: ``{"format": "reprlearn-finetune/1", "encoder": base encoder name,
  "modality": "image"|"text", "feat_dim", "strategy", "head": build options,
  "label_names": [...], "backbone_weights": bool, "best_epoch", ...}``;
* ``head.safetensors``: the head's weights;
* ``backbone.safetensors``: the adapted backbone (strategies that train it);
* ``encoder/state.npz`` + ``state.json``: a classical encoder's fitted state (``freeze``).

:func:`load_classifier` rebuilds it for :meth:`Classifier.predict`; ``ckpt:RUN`` embeds with
its (adapted) backbone through :func:`load_adapted_encoder`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, load_model, save_file, save_model
from torch import nn

from reprlearn.encoders.base import Encoder, TorchEncoder
from reprlearn.errors import StoreError
from reprlearn.outdir import write_json_atomic
from reprlearn.training.heads import build_mlp

FORMAT = "reprlearn-finetune/1"
HEADS = ("linear", "mlp")


def build_head(
    in_dim: int,
    n_classes: int,
    *,
    head: str = "linear",
    hidden: Sequence[int] = (512,),
    init: str = "default",
    dropout: float = 0.0,
    norm: str = "none",
    activation: str = "relu",
    input_norm: str = "batch",
) -> nn.Module:
    """A classification head ``(B, in_dim) -> (B, n_classes)`` logits.

    ``input_norm="batch"`` (default) standardises the features first with a BatchNorm
    without affine parameters, as MAE's linear probing (He et al. 2022, Sec. A.2): backbones
    give features of any scale (sentence embeddings are unit-norm), and one learning rate
    then fits all. ``"none"`` feeds them as they are.

    ``linear``: ``[Dropout] -> Linear`` (dropout on the features when ``dropout > 0``);
    ``mlp``: :func:`reprlearn.training.heads.build_mlp` with ``hidden`` widths, ``norm``,
    ``activation``, ``dropout`` after each hidden activation. ``init`` as ``build_mlp``.

    Raises:
        ValueError: unknown head, norm, init or activation.
    """
    if input_norm not in ("batch", "none"):
        raise ValueError(f"unknown --input-norm {input_norm!r}; choose batch or none")
    first = [nn.BatchNorm1d(in_dim, affine=False)] if input_norm == "batch" else []
    if head == "linear":
        mlp = build_mlp(in_dim, [], n_classes, norm="none", init=init)
        return nn.Sequential(*first, *([nn.Dropout(dropout)] if dropout > 0 else []), *mlp)
    if head == "mlp":
        mlp = build_mlp(in_dim, list(hidden), n_classes, norm=norm, init=init,
                        dropout=dropout, activation=activation)  # fmt: skip
        return nn.Sequential(*first, *mlp)
    raise ValueError(f"unknown --head {head!r}; choose one of {', '.join(HEADS)}")


class FinetuneModel(nn.Module):
    """``items -> encoder.forward -> head``: logits ``(B, n_classes)``.

    With ``encoder=None`` (``freeze`` on cached features) the input is the features
    ``(B, feat_dim)`` themselves.
    """

    def __init__(self, encoder: TorchEncoder | None, head: nn.Module) -> None:
        super().__init__()
        self.encoder = encoder
        self.backbone = encoder.model if encoder is not None else None
        self.head = head

    def features(self, batch: Any) -> torch.Tensor:
        if self.encoder is None:
            return batch
        return self.encoder.forward(batch).float()

    def forward(self, batch: Any) -> torch.Tensor:
        return self.head(self.features(batch).float())


def absolute_encoder_name(name: str) -> str:
    """``ckpt:relative/run`` -> ``ckpt:/abs/run`` so a run folder loads from any directory."""
    if name.startswith("ckpt:") and Path(name[5:]).exists():
        return "ckpt:" + str(Path(name[5:]).resolve())
    return name


def save_classifier(
    folder: Path,
    config: dict[str, Any],
    head: nn.Module,
    encoder: Encoder,
    backbone_trained: bool,
) -> None:
    """Write the run folder files (each atomically); ``config`` gains format and flags."""
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / ".head.safetensors.tmp"
    save_file({k: v.detach().cpu().contiguous() for k, v in head.state_dict().items()}, tmp)
    tmp.replace(folder / "head.safetensors")
    if backbone_trained:
        tmp = folder / ".backbone.safetensors.tmp"
        model = encoder.model
        dtype = next(model.parameters()).dtype
        save_model(model.float(), str(tmp))
        model.to(dtype)
        tmp.replace(folder / "backbone.safetensors")
    elif encoder.requires_fit and not (folder / "encoder" / "state.json").is_file():
        encoder.save(folder / "encoder")
    write_json_atomic(folder / "config.json",
                      {"format": FORMAT, **config, "backbone_weights": backbone_trained})  # fmt: skip


def is_finetune_run(folder: str | Path) -> bool:
    """True when ``folder/config.json`` is a ``reprlearn finetune`` run."""
    path = Path(folder) / "config.json"
    try:
        return json.loads(path.read_text()).get("format") == FORMAT
    except (OSError, ValueError, AttributeError):
        return False


def read_classifier_config(folder: str | Path) -> dict[str, Any]:
    """``config.json`` of a finetune run folder.

    Raises:
        StoreError: no config.json, or a run folder that is not a classifier (e.g. a
            ``pretrain`` run).
    """
    path = Path(folder) / "config.json"
    if not path.is_file():
        raise StoreError(
            f"{folder}: not a finetune run folder (no config.json); pass the --out folder "
            "of `reprlearn finetune`"
        )
    config = json.loads(path.read_text())
    if config.get("format") != FORMAT:
        raise StoreError(
            f"{folder} is not a classifier (format {config.get('format')!r}, expected "
            f"{FORMAT!r}); train one with `reprlearn finetune SOURCE --encoder "
            f"ckpt:{folder} --out RUN` and pass RUN"
        )
    return config


def load_adapted_encoder(folder: str | Path) -> tuple[Encoder, dict[str, Any]]:
    """The encoder of a finetune run: its base encoder with the adapted backbone weights
    (or the fitted classical state). Returns ``(encoder, config)``.

    Raises:
        StoreError: not a classifier run folder, or weights that do not fit.
    """
    from reprlearn.encoders.registry import load_encoder

    folder = Path(folder)
    config = read_classifier_config(folder)
    enc = load_encoder(config["encoder"])
    if config.get("backbone_weights"):
        try:
            load_model(enc.model, str(folder / "backbone.safetensors"), strict=True)
        except (RuntimeError, FileNotFoundError) as e:
            raise StoreError(f"{folder}/backbone.safetensors: does not fit ({e})") from None
    elif enc.requires_fit:
        enc.load(folder / "encoder")
    if isinstance(enc, TorchEncoder):
        enc.model.eval()
    return enc, config


class Classifier:
    """A trained classifier: raw items (texts or PIL images) -> label names / probabilities.

    Attributes:
        encoder: the (adapted) encoder; head: the head module; label_names: class names;
        config: the run's ``config.json``.
    """

    def __init__(self, encoder: Encoder, head: nn.Module, config: dict[str, Any]) -> None:
        self.encoder, self.head, self.config = encoder, head.eval(), config
        self.label_names: list[str] = list(config["label_names"])

    @property
    def modality(self) -> str:
        return self.encoder.modality

    def predict_proba(self, items: Sequence[Any], *, batch_size: int | None = None,
                      precision: str = "auto", device: str = "auto") -> np.ndarray:  # fmt: skip
        """Class probabilities, float32 ``(len(items), n_classes)`` (softmax of the logits).

        Raises:
            DataError: a bad item (names its position).
        """
        from reprlearn.embed import encode_items

        feats = encode_items(self.encoder, list(items), batch_size=batch_size,
                             device=device, precision=precision)  # fmt: skip
        return self.proba_from_features(feats)

    def proba_from_features(self, feats: np.ndarray) -> np.ndarray:
        """Probabilities ``(n, n_classes)`` from backbone features ``(n, feat_dim)``."""
        with torch.inference_mode():
            logits = self.head(torch.from_numpy(np.asarray(feats, dtype=np.float32)))
            return torch.softmax(logits.float(), dim=1).numpy()

    def predict(self, items: Sequence[Any], **kwargs: Any) -> list[str]:
        """Predicted label names, one per item."""
        proba = self.predict_proba(items, **kwargs)
        return [self.label_names[i] for i in proba.argmax(1)]


def load_classifier(run: str | Path) -> Classifier:
    """Load a ``reprlearn finetune`` run folder as a :class:`Classifier`.

    Raises:
        StoreError: ``run`` is not a finetune run folder (e.g. a pretraining run), or its
            weights do not fit its config.
    """
    folder = Path(run)
    encoder, config = load_adapted_encoder(folder)
    head = build_head(config["feat_dim"], len(config["label_names"]), **config["head"])
    try:
        head.load_state_dict(load_file(folder / "head.safetensors"))
    except (RuntimeError, FileNotFoundError) as e:
        raise StoreError(f"{folder}/head.safetensors: missing or does not fit ({e})") from None
    return Classifier(encoder, head, config)
