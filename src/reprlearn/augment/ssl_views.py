"""Batched image augmentations with per-sample randomness, and the published recipes.

torchvision.transforms.v2 draws one set of random parameters per call, so applied to a
batch tensor every image would get the same crop and colour change. Looping over the
batch is slow on a GPU (dozens of small kernels per image). Here each operation draws
its parameters per sample and runs as a few batched tensor ops (``affine_grid`` +
``grid_sample`` for crops/flips/affine, broadcast arithmetic for colour, a grouped
convolution for blur), on whatever device the batch lives; colour operations match
``torchvision.transforms.v2.functional`` for the same factor (tested).

Recipes (``recipe(name, image_size)``), inputs ``(B, C, H, W)`` float in [0, 1]:

* ``simclr``: Chen et al. 2020 (Appendix A, B.9 for CIFAR-10): random resized crop
  (scale 0.08-1), horizontal flip, colour jitter (strength s=0.5 for images <= 64 px,
  1.0 above: 0.8s/0.8s/0.8s/0.2s, p=0.8), grayscale p=0.2, Gaussian blur p=0.5 only
  above 64 px (the paper drops blur on CIFAR).
* ``byol``: Grill et al. 2020, Table 6; asymmetric views: crop, flip, jitter
  (0.4, 0.4, 0.2, 0.1) p=0.8, grayscale p=0.2, blur p=1.0/0.1, solarize p=0.0/0.2
  (blur only above 64 px, as for SimCLR).
* ``vicreg``: Bardes et al. 2022, Appendix C.1 (the BYOL recipe).
* ``digits``: for 8x8 grayscale digits: a small random affine map (rotation +-12 deg,
  scale 0.85-1.1, translation +-0.75 px, shear +-8 deg), no flip (digits are not
  mirror-symmetric), then Gaussian pixel noise (std 0.05) and a random contrast change.

A recipe with two view settings alternates between them on successive calls, so a
method that calls ``augment(x)`` twice gets the two asymmetric views.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import torch
import torch.nn.functional as F

RECIPES = ("simclr", "byol", "vicreg", "digits", "none")


def _u(n: int, lo: float, hi: float, g: torch.Generator | None, device) -> torch.Tensor:
    """``n`` uniform samples in [lo, hi)."""
    return lo + (hi - lo) * torch.rand(n, generator=g, device=device)


def _mask(n: int, p: float, g, device) -> torch.Tensor:
    """Boolean ``(n,)``: True with probability ``p``."""
    return torch.rand(n, generator=g, device=device) < p


def _per(v: torch.Tensor) -> torch.Tensor:
    return v.view(-1, 1, 1, 1)


# --- per-sample operations with explicit factors (tested against torchvision) ----------
def grayscale(x: torch.Tensor) -> torch.Tensor:
    """ITU-R 601-2 luma ``0.299 R + 0.587 G + 0.114 B``, kept at ``C`` channels."""
    if x.shape[1] == 1:
        return x
    gray = (0.299 * x[:, 0] + 0.587 * x[:, 1] + 0.114 * x[:, 2]).unsqueeze(1)
    return gray.expand_as(x)


def adjust_brightness(x: torch.Tensor, f: torch.Tensor) -> torch.Tensor:
    """``clamp(x * f)`` with one factor per sample ``f (B,)``."""
    return (x * _per(f)).clamp(0, 1)


def adjust_contrast(x: torch.Tensor, f: torch.Tensor) -> torch.Tensor:
    """Blend with the image's mean gray level: ``clamp(f x + (1-f) mean)``."""
    mean = grayscale(x)[:, :1].mean(dim=(1, 2, 3), keepdim=True)
    return (_per(f) * x + (1 - _per(f)) * mean).clamp(0, 1)


def adjust_saturation(x: torch.Tensor, f: torch.Tensor) -> torch.Tensor:
    """Blend with the grayscale image: ``clamp(f x + (1-f) gray)`` (RGB only)."""
    if x.shape[1] == 1:
        return x
    return (_per(f) * x + (1 - _per(f)) * grayscale(x)).clamp(0, 1)


def adjust_hue(x: torch.Tensor, f: torch.Tensor) -> torch.Tensor:
    """Rotate the hue by ``f`` turns (``f in [-0.5, 0.5]``) in HSV space (RGB only)."""
    if x.shape[1] == 1:
        return x
    from torchvision.transforms.v2.functional._color import _hsv_to_rgb, _rgb_to_hsv

    hsv = _rgb_to_hsv(x)
    h = (hsv[:, 0] + f.view(-1, 1, 1)) % 1.0
    return _hsv_to_rgb(torch.stack([h, hsv[:, 1], hsv[:, 2]], dim=1))


def solarize(x: torch.Tensor, threshold: float = 0.5) -> torch.Tensor:
    """Invert pixels at or above ``threshold``: ``where(x >= t, 1 - x, x)``."""
    return torch.where(x >= threshold, 1 - x, x)


def gaussian_blur(x: torch.Tensor, sigma: torch.Tensor, kernel_size: int) -> torch.Tensor:
    """Separable Gaussian blur with one ``sigma (B,)`` (pixels) per sample, reflect padding."""
    b, c, h, w = x.shape
    r = kernel_size // 2
    t = torch.arange(-r, r + 1, device=x.device, dtype=x.dtype)
    k = torch.exp(-(t.view(1, -1) ** 2) / (2 * sigma.view(-1, 1).to(x.dtype) ** 2))
    k = (k / k.sum(dim=1, keepdim=True)).repeat_interleave(c, dim=0)  # (B*C, K)
    y = F.pad(x.reshape(1, b * c, h, w), (r, r, r, r), mode="reflect")
    y = F.conv2d(y, k.view(b * c, 1, 1, -1), groups=b * c)
    y = F.conv2d(y, k.view(b * c, 1, -1, 1), groups=b * c)
    return y.view(b, c, h, w)


def warp(x: torch.Tensor, theta: torch.Tensor, size: int) -> torch.Tensor:
    """Resample ``x`` with per-sample affine maps ``theta (B, 2, 3)`` (normalised coords)
    to ``(B, C, size, size)``; bilinear, zeros outside (``F.affine_grid``/``grid_sample``)."""
    grid = F.affine_grid(
        theta.to(x.dtype), [x.shape[0], x.shape[1], size, size], align_corners=False
    )
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


# --- random parameter draws --------------------------------------------------------------
def crop_theta(b, scale, ratio, flip_p, g, device) -> torch.Tensor:
    """Random-resized-crop (+ horizontal flip) affine maps ``(B, 2, 3)``.

    Area fraction ~ U(scale), log aspect ratio ~ U(log ratio) as in
    ``torchvision.transforms.v2.RandomResizedCrop``; a crop wider or taller than the image
    is clipped to it (torchvision re-draws up to 10 times instead).
    """
    area = _u(b, *scale, g, device)
    logr = _u(b, math.log(ratio[0]), math.log(ratio[1]), g, device)
    w = torch.sqrt(area * torch.exp(logr)).clamp(max=1.0)
    h = torch.sqrt(area / torch.exp(logr)).clamp(max=1.0)
    cx = (1 - w) * _u(b, -1, 1, g, device)
    cy = (1 - h) * _u(b, -1, 1, g, device)
    flip = torch.where(_mask(b, flip_p, g, device), -1.0, 1.0)
    zero = torch.zeros_like(w)
    return torch.stack([torch.stack([w * flip, zero, cx], 1), torch.stack([zero, h, cy], 1)], 1)


def affine_theta(b, degrees, scale, translate_px, shear_deg, size, g, device) -> torch.Tensor:
    """Random small affine maps ``(B, 2, 3)``: rotation, isotropic scale, shear, translation."""
    a = torch.deg2rad(_u(b, -degrees, degrees, g, device))
    sh = torch.deg2rad(_u(b, -shear_deg, shear_deg, g, device))
    s = 1 / _u(b, *scale, g, device)  # sampling grid shrinks when the content grows
    tx = _u(b, -translate_px, translate_px, g, device) * 2 / size
    ty = _u(b, -translate_px, translate_px, g, device) * 2 / size
    row0 = torch.stack([s * torch.cos(a), s * (-torch.sin(a) + torch.tan(sh)), tx], 1)
    row1 = torch.stack([s * torch.sin(a), s * torch.cos(a), ty], 1)
    return torch.stack([row0, row1], 1)


@dataclass(frozen=True)
class ViewSpec:
    """Parameters of one view's augmentation pipeline (probabilities and ranges)."""

    crop_scale: tuple[float, float] | None = (0.08, 1.0)
    crop_ratio: tuple[float, float] = (3 / 4, 4 / 3)
    flip_p: float = 0.5
    affine: dict | None = None  # degrees, scale, translate_px, shear_deg
    jitter: tuple[float, float, float, float] = (0.4, 0.4, 0.4, 0.1)
    jitter_p: float = 0.8
    gray_p: float = 0.2
    blur_p: float = 0.0
    blur_sigma: tuple[float, float] = (0.1, 2.0)
    solarize_p: float = 0.0
    noise_std: float = 0.0


@dataclass
class Recipe:
    """A callable ``(B, C, H, W) in [0, 1] -> (B, C, size, size) in [0, 1]`` augmentation.

    ``views`` holds one :class:`ViewSpec` per view; successive calls cycle through them.
    :meth:`reseed` makes the randomness reproducible (one ``torch.Generator`` on the
    batch's device); without it the global RNG is used.
    """

    name: str
    size: int
    views: list[ViewSpec]
    generator: torch.Generator | None = field(default=None, repr=False)
    _calls: int = 0

    def reseed(self, seed: int, device: torch.device | str = "cpu") -> Recipe:
        """Restart the random stream at ``seed`` on ``device`` (and the view cycle)."""
        self.generator = torch.Generator(device=device).manual_seed(seed)
        self._calls = 0
        return self

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        spec = self.views[self._calls % len(self.views)]
        self._calls += 1
        g = self.generator
        if g is not None and g.device != x.device:
            self.reseed(int(g.initial_seed()), x.device)
            g = self.generator
        with torch.no_grad(), torch.autocast(x.device.type, enabled=False):
            return self._apply(x.float(), spec, g)

    def _apply(self, x: torch.Tensor, spec: ViewSpec, g) -> torch.Tensor:
        b, dev = x.shape[0], x.device
        if spec.affine is not None:
            a = spec.affine
            theta = affine_theta(
                b, a["degrees"], a["scale"], a["translate_px"], a["shear_deg"], x.shape[-1], g, dev
            )
            x = warp(x, theta, self.size)
        elif spec.crop_scale is not None:
            x = warp(
                x, crop_theta(b, spec.crop_scale, spec.crop_ratio, spec.flip_p, g, dev), self.size
            )
        elif x.shape[-1] != self.size:
            x = F.interpolate(x, size=(self.size, self.size), mode="bilinear", antialias=True)
        x = self._color(x, spec, g)
        if spec.blur_p > 0:
            k = max(3, int(0.1 * self.size) // 2 * 2 + 1)
            sigma = _u(b, *spec.blur_sigma, g, dev)
            x = torch.where(_per(_mask(b, spec.blur_p, g, dev)), gaussian_blur(x, sigma, k), x)
        if spec.solarize_p > 0:
            x = torch.where(_per(_mask(b, spec.solarize_p, g, dev)), solarize(x), x)
        if spec.noise_std > 0:
            noise = torch.randn(x.shape, generator=g, device=dev) * spec.noise_std
            x = (x + noise).clamp(0, 1)
        return x

    def _color(self, x: torch.Tensor, spec: ViewSpec, g) -> torch.Tensor:
        b, dev = x.shape[0], x.device
        bri, con, sat, hue = spec.jitter
        if spec.jitter_p > 0 and any(spec.jitter):
            on = _per(_mask(b, spec.jitter_p, g, dev))
            y = x
            if bri:
                y = adjust_brightness(y, _u(b, max(0, 1 - bri), 1 + bri, g, dev))
            if con:
                y = adjust_contrast(y, _u(b, max(0, 1 - con), 1 + con, g, dev))
            if sat:
                y = adjust_saturation(y, _u(b, max(0, 1 - sat), 1 + sat, g, dev))
            if hue:
                y = adjust_hue(y, _u(b, -hue, hue, g, dev))
            x = torch.where(on, y, x)
        if spec.gray_p > 0:
            x = torch.where(_per(_mask(b, spec.gray_p, g, dev)), grayscale(x), x)
        return x


def recipe(name: str, image_size: int) -> Recipe:
    """The augmentation recipe ``name`` (one of :data:`RECIPES`) for ``image_size`` px images.

    Returns a :class:`Recipe`: ``(B, C, H, W) -> (B, C, image_size, image_size)``, random
    parameters drawn per sample. Sources in the module docstring.

    Raises:
        ValueError: unknown recipe name.
    """
    big = image_size > 64
    if name == "simclr":
        s = 1.0 if big else 0.5
        view = ViewSpec(jitter=(0.8 * s, 0.8 * s, 0.8 * s, 0.2 * s), blur_p=0.5 if big else 0.0)
        return Recipe(name, image_size, [view])
    if name in ("byol", "vicreg"):
        base = ViewSpec(jitter=(0.4, 0.4, 0.2, 0.1))
        v1 = replace(base, blur_p=1.0 if big else 0.0)
        v2 = replace(base, blur_p=0.1 if big else 0.0, solarize_p=0.2)
        return Recipe(name, image_size, [v1, v2])
    if name == "digits":
        affine = {"degrees": 12.0, "scale": (0.85, 1.1), "translate_px": 0.75, "shear_deg": 8.0}
        view = ViewSpec(
            affine=affine, flip_p=0.0, jitter=(0.0, 0.3, 0.0, 0.0), jitter_p=0.5, gray_p=0.0,
            noise_std=0.05,
        )  # fmt: skip
        return Recipe(name, image_size, [view])
    if name == "none":
        return Recipe(name, image_size,
                      [ViewSpec(crop_scale=None, flip_p=0.0, jitter_p=0.0, gray_p=0.0)])  # fmt: skip
    raise ValueError(f"unknown augmentation recipe {name!r}; choose one of {', '.join(RECIPES)}")
