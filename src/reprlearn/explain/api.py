"""``explain``: class activation maps of a classifier or encoder on items of a source.

Loads the network (:func:`~reprlearn.explain.model.load_explainable`), samples ``n`` items,
computes their maps (:func:`~reprlearn.explain.cam.compute_cams`), and optionally scores
them: energy inside the object mask (``shapes``), ROAD and the deletion curve, and the
model-randomisation check. Writes a PNG grid of overlays when ``out`` is given.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import datasets
import numpy as np
import torch
from PIL import Image

from reprlearn.data.items import decode_item, open_image_file
from reprlearn.data.shapes import has_object_masks
from reprlearn.device import resolve_device
from reprlearn.errors import DataError
from reprlearn.evaluation.result import ResultMixin
from reprlearn.explain.cam import cam_class, compute_cams
from reprlearn.explain.layers import choose_layer
from reprlearn.explain.model import Explainable, load_explainable
from reprlearn.explain.targets import (
    check_target,
    class_prototypes,
    class_targets,
    similarity_targets,
)

PROTOTYPE_ITEMS = 100
"""Items of the source embedded for the class prototypes of encoder targets."""


@dataclass
class ExplainResult(ResultMixin):
    """What ``explain`` measured on ``n`` items.

    Attributes:
        method, layer, target: the CAM method, hooked layer and what the maps explain;
        n: items explained; accuracy: the classifier's accuracy on them (None: no labels or
        an encoder); energy_inside: mean share of map energy inside the object masks
        (``inside_mask``; None otherwise); n_empty_maps: maps with no energy (left out of
        that mean); road: mean ROADCombined (``faithfulness``); deletion: ``{percent
        removed: mean score change}``; randomisation_spearman: mean rank correlation with a
        randomised model's maps (``sanity``); out: the PNG; items: per-image rows.
    """

    method: str
    layer: str
    target: str
    n: int
    accuracy: float | None = None
    energy_inside: float | None = None
    n_empty_maps: int = 0
    road: float | None = None
    deletion: dict[int, float] | None = None
    randomisation_spearman: float | None = None
    out: Path | None = None
    items: list[dict[str, Any]] = field(default_factory=list)
    title = "explain"


def _load_source(source: str | datasets.Dataset, options: dict[str, Any] | None):
    from reprlearn.data import load_dataset

    ds = source if isinstance(source, datasets.Dataset) else load_dataset(source, **(options or {}))
    if "image" not in ds.column_names:
        raise DataError(
            f"{source if isinstance(source, str) else 'the dataset'} holds "
            f"{'texts' if 'text' in ds.column_names else ds.column_names}, but the model reads "
            "images; pass an image source (digits, shapes, cifar10, an image folder)"
        )
    return ds


def _inputs(model: Explainable, images: list[Image.Image]) -> torch.Tensor:
    """Preprocessed float batch ``(n, C, H, W)`` on the model's device."""
    enc = model.encoder
    device = next(model.module.parameters()).device
    return enc.collate([enc.preprocess(im) for im in images]).float().to(device)


def _display(images: list[Image.Image], hw: tuple[int, int]) -> np.ndarray:
    """The raw images as float ``(n, H, W, 3)`` in [0, 1] at the maps' size."""
    out = [np.asarray(im.convert("RGB").resize((hw[1], hw[0]), Image.BILINEAR)) for im in images]
    return np.stack(out).astype(np.float32) / 255.0


def _labels(ds: datasets.Dataset, rows: np.ndarray, model: Explainable) -> np.ndarray | None:
    """True labels of ``rows`` as the model's class ids (None: no labels)."""
    feature = ds.features.get("label")
    names = getattr(feature, "names", None)
    if names is None:
        return None
    y = np.asarray(ds.select(rows)["label"], dtype=np.int64)
    if model.label_names is None:
        return y
    from reprlearn.adapt.data import align_labels

    return align_labels(y, list(names), model.label_names, "explain")


def _encoder_targets(model: Explainable, ds, rows, x, y, reference, seed):
    """Cosine-similarity targets: a reference image, else the item's class prototype
    (from up to 100 labelled items), else the item's own embedding."""
    with torch.no_grad():
        own = model.module(x).float().cpu().numpy()
    if reference is not None:
        ref = open_image_file(reference)
        with torch.no_grad():
            emb = model.module(_inputs(model, [ref])).float().cpu().numpy()[0]
        return similarity_targets([emb] * len(rows)), "similarity to the reference image"
    if y is None:
        return similarity_targets(own), "similarity to the item's own embedding"
    rng = np.random.default_rng(seed + 1)
    pool = np.sort(rng.choice(len(ds), size=min(PROTOTYPE_ITEMS, len(ds)), replace=False))
    sub = ds.select(pool)
    feats = []
    for s in range(0, len(sub), 64):
        part = [decode_item(im, "image") for im in sub[s : s + 64]["image"]]
        with torch.no_grad():
            feats.append(model.module(_inputs(model, part)).float().cpu().numpy())
    protos = class_prototypes(np.concatenate(feats), np.asarray(sub["label"], dtype=np.int64))
    refs = [protos.get(int(c), own[i]) for i, c in enumerate(y)]
    return similarity_targets(refs), "similarity to the class prototype"


def explain(
    model: str | Path,
    source: str | datasets.Dataset,
    *,
    method: str = "gradcam",
    n: int = 16,
    layer: str | None = None,
    target: str = "pred",
    reference: str | Path | None = None,
    source_options: dict[str, Any] | None = None,
    inside_mask: bool = False,
    faithfulness: bool = False,
    sanity: bool = False,
    out: str | Path | None = None,
    seed: int = 0,
    random_weights: bool = False,
    device: str = "cpu",
) -> ExplainResult:
    """Class activation maps of ``n`` items of ``source`` for ``model``.

    Args:
        model: a ``reprlearn finetune`` run folder (an image classifier) or an image encoder
            name (``ckpt:RUN``, ``timm:NAME``, ``torchvision:ARCH``).
        source: a source name for :func:`reprlearn.load_dataset` or a Dataset with an
            ``image`` column (``label`` optional).
        method: one of :data:`reprlearn.explain.cam.METHODS` (default ``gradcam``).
        n: items explained (a seeded random sample; default 16).
        layer: the hooked layer (``--layer``); default: last conv stage / last ViT block.
        target: classifiers: ``pred`` (predicted class) or ``true`` (the label).
            Encoders: cosine similarity to ``reference``'s embedding, else to the item's
            class prototype, else to its own embedding. EigenCAM ignores the target.
        source_options: ``load_dataset`` keyword arguments.
        inside_mask: score the share of map energy inside each object's mask (``shapes``
            only: Wang et al. 2020's energy-based pointing game).
        faithfulness: ROAD (``ROADCombined``) and the deletion curve (grad-cam's metrics).
        sanity: Adebayo et al. 2018's model-randomisation check (Spearman of the maps).
        out: PNG of the overlay grid (not written when None).
        seed: the item sample's seed. random_weights: encoders' ``--random-weights``.
        device: where the network runs: ``cpu`` (default), ``auto``, ``cuda``, ``mps``.

    Raises:
        DataError: a text source, ``--inside-mask`` on a source without object masks,
            ``--target true`` without labels, an unknown target.
        ReprlearnError: a text or classical model, an unknown method or layer.
    """
    check_target(target)
    if n < 1:
        raise DataError(f"--n must be at least 1 (items to explain), got {n}")
    cam_class(method)  # an unknown method fails before any loading
    net = load_explainable(model, random_weights=random_weights)
    net.module.to(resolve_device(device))
    ds = _load_source(source, source_options)
    if inside_mask and not has_object_masks(ds):
        raise DataError(
            f"--inside-mask needs object masks, which only the shapes dataset has "
            f"({source if isinstance(source, str) else 'this dataset'} has columns "
            f"{ds.column_names}); use the shapes dataset (shapes:N)"
        )
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(len(ds), size=min(n, len(ds)), replace=False))
    raw = [decode_item(im, "image") for im in ds.select(rows)["image"]]
    x = _inputs(net, raw)
    y = _labels(ds, rows, net)
    with torch.no_grad():
        output = net.module(x).float().cpu()
    pred = output.argmax(1).numpy() if net.is_classifier else None
    if net.is_classifier:
        if target == "true" and y is None:
            raise DataError("--target true needs a labelled source; use --target pred")
        classes = y if target == "true" else pred
        tgts, what = class_targets(classes), f"{target} class"
    else:
        tgts, what = _encoder_targets(net, ds, rows, x, y, reference, seed)
    if method == "eigencam":
        what = "none (first principal component)"
    choice = choose_layer(net.module, x, layer)
    cams = compute_cams(net.module, x, method=method, layer=choice, targets=tgts)
    result = ExplainResult(method=method, layer=choice.name, target=what, n=len(rows))
    items = [{"id": int(r)} for r in rows]
    if y is not None and pred is not None:
        result.accuracy = float((pred == y).mean())
    for i, item in enumerate(items):
        if y is not None:
            item["true"] = _name(net, ds, int(y[i]))
        if pred is not None:
            item["pred"] = net.label_names[int(pred[i])]
            item["confidence"] = float(torch.softmax(output[i], 0).max())
    if inside_mask:
        _score_inside(result, items, ds, rows, cams)
    if faithfulness:
        road = _faithfulness(result, net, x, cams, tgts)
        for item, r in zip(items, road, strict=True):
            item["road"] = float(r)
    if sanity:
        from reprlearn.explain.randomisation import model_randomisation

        rho = model_randomisation(net.module, x, cams, method=method, layer=choice, targets=tgts)
        result.randomisation_spearman = _nanmean(rho)
        for item, r in zip(items, rho, strict=True):
            item["randomisation_spearman"] = None if np.isnan(r) else float(r)
    result.items = items
    if out is not None:
        result.out = _grid(out, raw, cams, items, net, method, choice.name)
    return result


def _name(net: Explainable, ds: datasets.Dataset, label: int) -> str:
    if net.label_names is not None:
        return net.label_names[label]
    return ds.features["label"].names[label]


def _nanmean(values: np.ndarray) -> float | None:
    values = np.asarray(values, dtype=np.float64)
    return None if np.isnan(values).all() else float(np.nanmean(values))


def _score_inside(result, items, ds, rows, cams) -> None:
    from reprlearn.data.shapes import shape_masks
    from reprlearn.explain.pointing import energy_inside, resize_masks

    try:
        masks = shape_masks(ds.select(rows))
    except ValueError as e:
        raise DataError(f"--inside-mask: {e}; use the shapes dataset (shapes:N)") from None
    share = energy_inside(cams, resize_masks(masks, cams.shape[1:]))
    result.energy_inside = _nanmean(share)
    result.n_empty_maps = int(np.isnan(share).sum())
    for item, s in zip(items, share, strict=True):
        item["energy_inside"] = None if np.isnan(s) else float(s)


def _faithfulness(result, net, x, cams, tgts) -> np.ndarray:
    from reprlearn.explain.faithfulness import deletion_curve, road_combined

    road = road_combined(net.module, x, cams, tgts)
    result.road = float(np.mean(road))
    result.deletion = deletion_curve(net.module, x, cams, tgts)
    return road


def _grid(out, raw, cams, items, net, method, layer) -> Path:
    from reprlearn.explain.grid import save_cam_grid

    titles, wrong = [], []
    for item in items:
        parts = [f"true: {item['true']}"] if "true" in item else []
        parts += [f"pred: {item['pred']}"] if "pred" in item else []
        if "energy_inside" in item and item["energy_inside"] is not None:
            parts.append(f"in: {item['energy_inside']:.2f}")
        titles.append(" / ".join(parts) or f"#{item['id']}")
        wrong.append("pred" in item and "true" in item and item["pred"] != item["true"])
    return save_cam_grid(_display(raw, cams.shape[1:]), cams, out, titles=titles, wrong=wrong,
                         suptitle=f"{method} at {layer} - {net.name}")  # fmt: skip
