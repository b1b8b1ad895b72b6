"""Supervised image augmentation recipes on ``torchvision.transforms.v2``.

``--augment none|light|default|strong`` names a recipe; ``--rotate``, ``--crop-scale``,
``--color-jitter``, ``--random-erasing`` and ``--hflip`` override one of its parameters.
Each recipe maps one image (PIL ``L``/``RGB`` or uint8 ``(C, H, W)``) to one of the same
size and mode; random draws per call from torch's global RNG (seed it, or use
:func:`augment_images` with a seed for per-image reproducible draws).

===========  =============================================================================
recipe       operations (in order)
===========  =============================================================================
none         identity
light        RandomResizedCrop(scale 0.8-1, ratio 3/4-4/3)
default      RandomResizedCrop(scale 0.5-1), RandomRotation(+-10 deg), ColorJitter(0.2)
             (brightness, contrast, saturation), RandomErasing(p=0.25) (Zhong et al. 2020)
strong       RandomResizedCrop(scale 0.35-1), TrivialAugmentWide (Mueller & Hutter 2021)
             with rotation capped at 30 deg and translation at a quarter of the image,
             RandomErasing(p=0.25)
===========  =============================================================================

Transforms that can change an image's class are never in a recipe: flips are opt-in
(``hflip``; a mirrored "b" is a "d") and refused for digit sources; TrivialAugmentWide's
own +-135 deg rotation (a 6 becomes a 9) and 32 px translation (an 8 px digit leaves the
frame) are capped. Sources: torchvision.transforms.v2; Zhong et al., "Random Erasing Data
Augmentation", AAAI 2020; Mueller & Hutter, "TrivialAugment", ICCV 2021.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any

import torch

from reprlearn.errors import ReprlearnError

RECIPES = ("none", "light", "default", "strong")
# sources whose classes change under a mirror image (handwriting, characters)
_NO_FLIP = ("digits", "mnist", "emnist", "kmnist", "svhn", "omniglot")


@dataclass(frozen=True)
class ImageAugment:
    """One supervised image recipe with its parameters (what ``config.json`` stores).

    Attributes:
        recipe: ``none`` | ``light`` | ``default`` | ``strong``.
        crop_scale: RandomResizedCrop's area range ``(a, b)``, fractions in (0, 1]; None: no crop.
        rotate: RandomRotation's range in degrees (``+-rotate``); 0: none.
        color_jitter: ColorJitter strength S (brightness = contrast = saturation = S); 0: none.
        random_erasing: RandomErasing's probability; 0: none.
        trivial_augment: TrivialAugmentWide (capped, see the module docstring).
        hflip: horizontal flip probability (opt-in; refused for digit sources).
        mixup, cutmix: Beta(alpha, alpha) of MixUp / CutMix on batches (0: off);
        switch_prob: with both on, the share of batches that get CutMix (timm's name).
    """

    recipe: str = "none"
    crop_scale: tuple[float, float] | None = None
    rotate: float = 0.0
    color_jitter: float = 0.0
    random_erasing: float = 0.0
    trivial_augment: bool = False
    hflip: float = 0.0
    mixup: float = 0.0
    cutmix: float = 0.0
    switch_prob: float = 0.5

    @property
    def has_image_ops(self) -> bool:
        """True when some per-image operation is on."""
        return bool(self.crop_scale or self.rotate or self.color_jitter or self.random_erasing
                    or self.trivial_augment or self.hflip)  # fmt: skip

    @property
    def is_identity(self) -> bool:
        """True when neither per-image ops nor batch mixing change anything."""
        return not self.has_image_ops and not self.mixes

    @property
    def mixes(self) -> bool:
        """True when MixUp or CutMix is on."""
        return self.mixup > 0 or self.cutmix > 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready parameters (``config.json["augment"]``)."""
        d = asdict(self)
        d["crop_scale"] = list(self.crop_scale) if self.crop_scale else None
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ImageAugment:
        """Rebuild from :meth:`to_dict` output (unknown keys ignored)."""
        names = {f.name for f in fields(cls)}
        kw = {k: v for k, v in d.items() if k in names}
        if kw.get("crop_scale") is not None:
            kw["crop_scale"] = tuple(kw["crop_scale"])
        return cls(**kw)


_BASE = {
    "none": ImageAugment("none"),
    "light": ImageAugment("light", crop_scale=(0.8, 1.0)),
    "default": ImageAugment(
        "default", crop_scale=(0.5, 1.0), rotate=10.0, color_jitter=0.2, random_erasing=0.25
    ),  # fmt: skip
    "strong": ImageAugment(
        "strong", crop_scale=(0.35, 1.0), trivial_augment=True, random_erasing=0.25
    ),  # fmt: skip
}


def image_augment(
    recipe: str = "none",
    *,
    rotate: float | None = None,
    crop_scale: tuple[float, float] | str | None = None,
    color_jitter: float | None = None,
    random_erasing: float | None = None,
    hflip: float = 0.0,
    mixup: float = 0.0,
    cutmix: float = 0.0,
    switch_prob: float = 0.5,
    source: str | None = None,
) -> ImageAugment:
    """The recipe ``recipe`` with the given parameters overriding its own (None: keep).

    Args:
        recipe: one of :data:`RECIPES`. crop_scale: ``(a, b)`` or ``"a,b"`` with
            ``0 < a <= b <= 1``. rotate: degrees >= 0. color_jitter: >= 0.
        random_erasing, hflip, switch_prob: probabilities in [0, 1]. mixup, cutmix: alpha >= 0.
        source: the data source's name; ``hflip`` is refused for digit-like sources.

    Raises:
        ReprlearnError: an unknown recipe or an out-of-range parameter (names the option).
    """
    if recipe not in _BASE:
        raise ReprlearnError(f"unknown --augment {recipe!r}; choose one of {', '.join(RECIPES)}")
    if isinstance(crop_scale, str):
        crop_scale = _parse_pair(crop_scale)
    base = _BASE[recipe]
    aug = replace(
        base,
        rotate=base.rotate if rotate is None else float(rotate),
        crop_scale=base.crop_scale if crop_scale is None else tuple(crop_scale),
        color_jitter=base.color_jitter if color_jitter is None else float(color_jitter),
        random_erasing=base.random_erasing if random_erasing is None else float(random_erasing),
        hflip=float(hflip), mixup=float(mixup), cutmix=float(cutmix),
        switch_prob=float(switch_prob),
    )  # fmt: skip
    _check(aug, source)
    return aug


def _parse_pair(text: str) -> tuple[float, float]:
    try:
        a, b = (float(v) for v in text.split(","))
    except ValueError:
        raise ReprlearnError(f"--crop-scale expects A,B (e.g. 0.5,1), got {text!r}") from None
    return a, b


def _check(aug: ImageAugment, source: str | None) -> None:
    if aug.crop_scale is not None:
        a, b = aug.crop_scale
        if not 0 < a <= b <= 1:
            raise ReprlearnError(f"--crop-scale {a},{b}: needs 0 < A <= B <= 1 (e.g. 0.5,1)")
    for name in ("random_erasing", "hflip", "switch_prob"):
        if not 0 <= getattr(aug, name) <= 1:
            raise ReprlearnError(f"--{name.replace('_', '-')} is a probability in [0, 1], "
                                 f"got {getattr(aug, name)}")  # fmt: skip
    for name in ("rotate", "color_jitter", "mixup", "cutmix"):
        if getattr(aug, name) < 0:
            raise ReprlearnError(
                f"--{name.replace('_', '-')} must be >= 0, got {getattr(aug, name)}"
            )
    if aug.rotate > 180:
        raise ReprlearnError(f"--rotate is a range in degrees (0-180), got {aug.rotate}")
    name = str(source or "").lower()
    if aug.hflip > 0 and any(k in name for k in _NO_FLIP):
        raise ReprlearnError(f"--hflip on {source}: a mirrored digit or letter is another class "
                             "(or none); drop --hflip")  # fmt: skip


class _CappedTrivialAugmentWide:
    """Builds a TrivialAugmentWide whose rotation is capped at ``max_deg`` and whose
    translation at ``frac`` of the image side (the rest of its space unchanged)."""

    @staticmethod
    def build(max_deg: float = 30.0, frac: float = 0.25):
        from torchvision.transforms import v2

        space = dict(v2.TrivialAugmentWide._AUGMENTATION_SPACE)
        space["Rotate"] = (lambda n, h, w: torch.linspace(0.0, max_deg, n), True)
        space["TranslateX"] = (lambda n, h, w: torch.linspace(0.0, frac * w, n), True)
        space["TranslateY"] = (lambda n, h, w: torch.linspace(0.0, frac * h, n), True)
        cls = type("CappedTrivialAugmentWide", (v2.TrivialAugmentWide,),
                   {"_AUGMENTATION_SPACE": space})  # fmt: skip
        return cls()


def image_transform(aug: ImageAugment, size: tuple[int, int]):
    """The per-image ``torchvision.transforms.v2.Compose`` of ``aug`` for ``(H, W)`` images.

    Input: a PIL image or a uint8 ``(C, H, W)`` tensor; output: a uint8 ``tv_tensors.Image``
    ``(C, H, W)`` of the same size (MixUp/CutMix are batch operations: :mod:`.mixing`).
    """
    from torchvision.transforms import v2

    ops: list[Any] = [v2.ToImage()]
    if aug.crop_scale is not None:
        ops.append(v2.RandomResizedCrop(size, scale=aug.crop_scale, antialias=True))
    if aug.hflip > 0:
        ops.append(v2.RandomHorizontalFlip(aug.hflip))
    if aug.rotate > 0:
        ops.append(v2.RandomRotation(aug.rotate))
    if aug.color_jitter > 0:
        s = aug.color_jitter
        ops.append(v2.ColorJitter(brightness=s, contrast=s, saturation=s))
    if aug.trivial_augment:
        ops.append(_CappedTrivialAugmentWide.build())
    if aug.random_erasing > 0:
        ops.append(v2.RandomErasing(aug.random_erasing))
    return v2.Compose(ops)


class PILAugment:
    """``PIL image -> PIL image`` (same size and mode) through :func:`image_transform`;
    the form ``finetune`` applies before the encoder's own preprocessing."""

    def __init__(self, aug: ImageAugment) -> None:
        self.aug = aug
        self._by_size: dict[tuple[int, int], Any] = {}

    def __call__(self, image):
        from torchvision.transforms.v2.functional import to_pil_image

        size = (image.height, image.width)
        if size not in self._by_size:
            self._by_size[size] = image_transform(self.aug, size)
        out = self._by_size[size](image)
        return to_pil_image(out, mode=image.mode if image.mode in ("L", "RGB") else None)


def augment_images(images: torch.Tensor, aug: ImageAugment, seed: int) -> torch.Tensor:
    """Apply ``aug``'s per-image ops to uint8 ``(B, C, H, W)`` images, image ``i`` with its own
    generator state ``seed * 100003 + i`` (the global RNG is restored afterwards): the same
    seed and config give the same batch. Returns uint8 ``(B, C, H, W)``."""
    tf = image_transform(aug, tuple(images.shape[-2:]))
    out = []
    with torch.random.fork_rng(devices=[]):
        for i, img in enumerate(images):
            torch.default_generator.manual_seed(seed * 100003 + i)  # CPU RNG only: cheap
            out.append(torch.as_tensor(tf(img)))
    return torch.stack(out)
