"""Where a fine-tuned image classifier looks: a CAM panel of test images and, where object
masks are known (the ``shapes`` dataset), the share of map energy inside the object.

A classifier can score well by looking at the wrong thing: a scanner's text marker on chest
X-rays (Zech et al. 2018), a watermark, a planted ``--shortcut corner-marker``. After
training, ``finetune`` draws test images, computes Grad-CAM maps (Selvaraju et al. 2017)
through :func:`reprlearn.explain.explain`, writes them as ``cams.png`` and, with masks,
scores the energy-based pointing game (Wang et al. 2020): the share of the map's energy
inside the object. A uniform map scores the mask's area share; the run is flagged
"attention outside the object" when the share stays under :data:`FLAG_LIFT` times that.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import datasets

from reprlearn.data.shapes import has_object_masks, shape_masks
from reprlearn.encoders.base import TorchEncoder
from reprlearn.errors import ReprlearnError

FLAG_LIFT = 1.5
"""Flag a run whose mean CAM energy inside the object is under ``FLAG_LIFT`` times the
mask's area share (what a uniform map scores). Measured on ``shapes`` with a small_cnn
(Grad-CAM at its last conv stage, 64 test images, mask area 7.7% of the image): a model
fine-tuned on clean images put 16-17% of the energy inside (2.2x uniform); one that learned
the corner marker put 4-7% inside (0.5-1.0x uniform)."""
CAM_ITEMS = 16


def attention_check(
    run: Path, test_ds: datasets.Dataset, encoder: Any, *, n: int = CAM_ITEMS, seed: int = 0
) -> dict[str, Any] | None:
    """Grad-CAM panel (``run/cams.png``) and the pointing-game share for an image classifier.

    Args:
        run: the finetune run folder (its config and weights are written).
        test_ds: the test split (``image`` column; ``shapes`` factor columns give masks).
        encoder: the run's encoder (only neural image encoders have maps).
        n: test images drawn (seeded; default 16).

    Returns:
        None for text or classical encoders; ``{"skipped": reason}`` without the
        ``explain`` extra, with no test images or no layer with spatial maps (an MLP); else ``{"method", "n", "cams",
        "energy_inside", "area_share", "flag"}`` (the last three None without masks).
    """
    if not isinstance(encoder, TorchEncoder) or encoder.modality != "image":
        return None
    if importlib.util.find_spec("pytorch_grad_cam") is None:
        return {
            "skipped": "class activation maps need the explain extra: pip install 'reprlearn[explain]'"
        }
    if test_ds.num_rows == 0:
        return {"skipped": "no test images"}
    from reprlearn.explain import explain

    masks = has_object_masks(test_ds)
    try:
        res = explain(run, test_ds, method="gradcam", n=n, inside_mask=masks,
                      out=run / "cams.png", seed=seed)  # fmt: skip
    except ReprlearnError as e:  # e.g. an MLP backbone: no spatial feature maps to hook
        return {"skipped": str(e).split(";")[0]}
    except Exception as e:  # noqa: BLE001 - the trained run must not be lost to a CAM failure
        return {"skipped": f"class activation maps failed ({type(e).__name__}: {e})"}
    out: dict[str, Any] = {"method": "gradcam", "layer": res.layer, "n": res.n, "cams": "cams.png",
                           "energy_inside": res.energy_inside, "area_share": None, "flag": None}  # fmt: skip
    if masks:
        out["area_share"] = float(shape_masks(test_ds).mean())
        if res.energy_inside is not None and res.energy_inside < FLAG_LIFT * out["area_share"]:
            out["flag"] = "attention outside the object"
    return out
