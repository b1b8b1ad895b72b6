"""The supervised recipes applied to a whole batch on its device (kornia), with the same
random draws per image as the per-image ``torchvision.transforms.v2`` path.

:func:`draw_params` replays, for image ``i``, exactly the random calls the per-image
pipeline of :func:`~reprlearn.augment.recipes.augment_images` makes under the seed
``seed * 100003 + i`` (each v2 transform's probability check and ``make_params``), so both
paths crop the same box, rotate by the same angle, jitter by the same factors in the same
order and erase the same rectangle. :class:`BatchedAugment` then applies them as batched
tensor ops: ``kornia.geometry.transform.crop_and_resize`` (random resized crop),
``kornia.geometry.transform.rotate`` (nearest, as v2's default), per-image colour factors
(:mod:`reprlearn.augment.ssl_views`'s ops, equal to v2's for a given factor) and a mask
for erasing. Outputs differ from the uint8 per-image path only by interpolation and
rounding (tested: mean absolute difference below 2% of the range).

``strong``'s TrivialAugmentWide draws inside its ``forward``, not in ``make_params``, so it
has no batched form here: :class:`BatchedAugment` refuses it (use the per-image path).
"""

from __future__ import annotations

from typing import Any

import torch

from reprlearn.augment.recipes import ImageAugment, image_transform
from reprlearn.errors import ReprlearnError


def draw_params(aug: ImageAugment, shape: tuple[int, int, int], seeds: list[int]) -> list[dict]:
    """Per-image parameters ``[{op: params or None}, ...]`` for images ``(C, H, W)`` = ``shape``,
    image ``k`` drawn under ``torch.manual_seed(seeds[k])`` as the v2 pipeline would."""
    from torchvision import tv_tensors
    from torchvision.transforms.v2._transform import _RandomApplyTransform

    if aug.trivial_augment:
        raise ReprlearnError("the batched path has no TrivialAugmentWide (recipe strong); "
                             "use the per-image torchvision path")  # fmt: skip
    ops = image_transform(aug, shape[1:]).transforms[1:]  # skip ToImage
    dummy = [tv_tensors.Image(torch.zeros(shape, dtype=torch.uint8))]
    out = []
    with torch.random.fork_rng(devices=[]):
        for s in seeds:
            torch.default_generator.manual_seed(s)  # CPU RNG only: cheap
            drawn: dict[str, Any] = {}
            for op in ops:
                name = type(op).__name__
                if isinstance(op, _RandomApplyTransform) and torch.rand(1) >= op.p:
                    drawn[name] = None
                    continue
                drawn[name] = op.make_params(dummy)
            out.append(drawn)
    return out


class BatchedAugment:
    """``(B, C, H, W)`` float in [0, 1] on any device -> the same shape, per-image draws of
    :func:`draw_params` (seeds ``seed * 100003 + i``, as :func:`augment_images`).

    Raises:
        ReprlearnError: the recipe holds TrivialAugmentWide (``strong``).
    """

    def __init__(self, aug: ImageAugment) -> None:
        if aug.trivial_augment:
            draw_params(aug, (1, 2, 2), [])  # raises the clear error
        self.aug = aug

    def __call__(self, x: torch.Tensor, seed: int) -> torch.Tensor:
        b, c, h, w = x.shape
        params = draw_params(self.aug, (c, h, w), [seed * 100003 + i for i in range(b)])
        with torch.no_grad():
            x = x.float()
            x = self._crop(x, [p.get("RandomResizedCrop") for p in params])
            x = self._flip(x, [p.get("RandomHorizontalFlip", "off") for p in params])
            x = self._rotate(x, [p.get("RandomRotation") for p in params])
            x = self._jitter(x, [p.get("ColorJitter") for p in params])
            return self._erase(x, [p.get("RandomErasing") for p in params])

    @staticmethod
    def _crop(x, ps):
        if ps[0] is None:
            return x
        from kornia.geometry.transform import crop_and_resize

        boxes = torch.tensor([[[p["left"], p["top"]], [p["left"] + p["width"] - 1, p["top"]],
                               [p["left"] + p["width"] - 1, p["top"] + p["height"] - 1],
                               [p["left"], p["top"] + p["height"] - 1]] for p in ps],
                             dtype=x.dtype, device=x.device)  # fmt: skip
        return crop_and_resize(x, boxes, tuple(x.shape[-2:]), mode="bilinear", align_corners=True)

    @staticmethod
    def _flip(x, ps):
        if ps[0] == "off":
            return x
        on = torch.tensor([p is not None for p in ps], device=x.device).view(-1, 1, 1, 1)
        return torch.where(on, x.flip(-1), x)

    @staticmethod
    def _rotate(x, ps):
        if ps[0] is None:
            return x
        from kornia.geometry.transform import rotate

        angle = torch.tensor([p["angle"] for p in ps], dtype=x.dtype, device=x.device)
        return rotate(x, angle, mode="nearest", padding_mode="zeros", align_corners=False)

    @staticmethod
    def _jitter(x, ps):
        if ps[0] is None:
            return x
        from reprlearn.augment.ssl_views import (
            adjust_brightness,
            adjust_contrast,
            adjust_saturation,
        )

        fns = {0: ("brightness_factor", adjust_brightness), 1: ("contrast_factor", adjust_contrast),
               2: ("saturation_factor", adjust_saturation)}  # fmt: skip
        order = torch.stack([p["fn_idx"] for p in ps]).to(x.device)  # (B, 4)
        x = x.clone()
        for k in range(4):
            for fn_id, (key, fn) in fns.items():
                rows = (order[:, k] == fn_id).nonzero().flatten()
                if not len(rows) or ps[0][key] is None:
                    continue
                f = torch.tensor([ps[int(r)][key] for r in rows], dtype=x.dtype, device=x.device)
                x[rows] = fn(x[rows], f)
        return x

    @staticmethod
    def _erase(x, ps):
        if all(p is None or p["v"] is None for p in ps):
            return x
        b, _, h, w = x.shape
        rows = torch.arange(h, device=x.device).view(1, h, 1)
        cols = torch.arange(w, device=x.device).view(1, 1, w)
        box = torch.tensor([[p["i"], p["j"], p["h"], p["w"]] if p is not None and p["v"] is not None
                            else [0, 0, 0, 0] for p in ps], device=x.device)  # fmt: skip
        i, j, hh, ww = (box[:, k].view(b, 1, 1) for k in range(4))
        mask = (rows >= i) & (rows < i + hh) & (cols >= j) & (cols < j + ww)
        return x.masked_fill(mask.unsqueeze(1), 0.0)
