"""Class activation maps through the ``grad-cam`` package (pytorch-grad-cam, Gildenblat et al.).

Methods (``--method``):

========== ================================================================= =================
name       weights of the activation channels                                 source
========== ================================================================= =================
gradcam    spatial mean of the gradients                                      Selvaraju 2017
gradcam++  second-order weighting of positive gradients                       Chattopadhay 2018
scorecam   the target score of the input masked by each channel (no grads)    Wang 2020
eigencam   first principal component of the activations (no target)           Muhammad 2020
layercam   element-wise positive gradients                                    Jiang 2021
hirescam   element-wise gradients (no averaging)                              Draelos 2020
========== ================================================================= =================
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import contextmanager

import numpy as np
import torch
from torch import nn

from reprlearn.errors import ReprlearnError
from reprlearn.explain.layers import LayerChoice, choose_layer
from reprlearn.explain.targets import class_targets

METHODS = ("gradcam", "gradcam++", "scorecam", "eigencam", "layercam", "hirescam")


def cam_class(method: str):
    """The grad-cam class of ``method``.

    Raises:
        ReprlearnError: unknown method (lists them).
    """
    import pytorch_grad_cam as pgc

    classes = {"gradcam": pgc.GradCAM, "gradcam++": pgc.GradCAMPlusPlus,
               "scorecam": pgc.ScoreCAM, "eigencam": pgc.EigenCAM,
               "layercam": pgc.LayerCAM, "hirescam": pgc.HiResCAM}  # fmt: skip
    if method not in classes:
        raise ReprlearnError(f"unknown --method {method!r}; choose one of {', '.join(METHODS)}")
    return classes[method]


class _NoBar:
    """Stands in for the ``tqdm`` module inside grad-cam's Score-CAM: no bar per image."""

    @staticmethod
    def tqdm(iterable, *args, **kwargs):
        return iterable


@contextmanager
def _quiet_scorecam():
    import pytorch_grad_cam.score_cam as score_cam

    before = score_cam.tqdm
    score_cam.tqdm = _NoBar  # type: ignore[assignment]
    try:
        yield
    finally:
        score_cam.tqdm = before


def _targets(targets: Sequence[int | Callable] | None, n: int) -> list[Callable] | None:
    if targets is None:
        return None
    if len(targets) != n:
        raise ReprlearnError(f"{len(targets)} targets for {n} images; give one per image")
    if all(isinstance(t, int | np.integer) for t in targets):
        return class_targets(targets)  # type: ignore[arg-type]
    return list(targets)  # type: ignore[arg-type]


def compute_cams(
    model: nn.Module,
    images: torch.Tensor,
    *,
    method: str = "gradcam",
    layer: str | LayerChoice | None = None,
    targets: Sequence[int | Callable] | None = None,
    batch_size: int = 32,
) -> np.ndarray:
    """Class activation maps of ``images`` for ``model``.

    Args:
        model: images -> logits ``(n, classes)`` or embeddings ``(n, dim)``; put in eval mode.
        images: the model's input, float ``(n, C, H, W)`` (as its preprocessing gives them).
        method: one of :data:`METHODS` (default ``gradcam``).
        layer: the hooked layer's dotted name, a :class:`LayerChoice`, or None to choose the
            last convolutional stage / last transformer block (:func:`choose_layer`).
        targets: per image a class index or a callable ``output (classes,) -> scalar``
            (e.g. :class:`~reprlearn.explain.targets.SimilarityToReference`); None: the
            highest-scoring class (EigenCAM ignores targets).
        batch_size: images per grad-cam call (Score-CAM forwards one masked copy per channel).

    Returns:
        float32 ``(n, H, W)`` in [0, 1] (each map min-max scaled, upsampled to the input).

    Raises:
        ReprlearnError: unknown method or layer, no layer to hook, targets of the wrong length.
    """
    if images.ndim != 4:
        raise ReprlearnError(
            f"compute_cams needs images (n, C, H, W); got shape {tuple(images.shape)}"
        )
    model.eval()
    choice = layer if isinstance(layer, LayerChoice) else choose_layer(model, images, layer)
    tgts = _targets(targets, len(images))
    maps = []
    with (
        torch.enable_grad(),
        _quiet_scorecam(),
        cam_class(method)(
            model=model, target_layers=[choice.module], reshape_transform=choice.reshape_transform
        ) as cam,
    ):
        for s in range(0, len(images), batch_size):
            x = images[s : s + batch_size].detach().clone().requires_grad_(True)
            part = None if tgts is None else tgts[s : s + batch_size]
            maps.append(cam(input_tensor=x, targets=part))
    out = np.nan_to_num(np.concatenate(maps).astype(np.float32), nan=0.0)
    return np.clip(out, 0.0, 1.0)
