"""Classical image encoders fitted on the data: ``pixels``, ``pca:D``, ``random-projection:D``.

They follow scikit-learn's estimator contract (``fit`` returns ``self``, fitted state ends
in ``_``) and save their fitted state as arrays + JSON beside the store (no pickle), so
new data gets exactly the same transform.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from PIL import Image

from reprlearn.encoders.base import Encoder
from reprlearn.encoders.registry import register


def flatten_images(images: Sequence[Image.Image], size: tuple[int, int], mode: str) -> np.ndarray:
    """PIL images -> float32 ``(n, H*W*C)`` in [0, 1], converted to ``mode`` and resized
    (bilinear) to ``size`` = (width, height) where they differ."""
    rows = []
    for img in images:
        if img.mode != mode:
            img = img.convert(mode)
        if img.size != tuple(size):
            img = img.resize(tuple(size), Image.BILINEAR)
        rows.append(np.asarray(img, dtype=np.uint8).reshape(-1))
    return np.stack(rows).astype(np.float32) / 255.0


def _positive_int(identifier: str, family: str, default: int | None = None) -> int:
    if not identifier:
        if default is None:
            raise ValueError(f"{family} needs a dimension, e.g. {family}:32")
        return default
    try:
        value = int(identifier)
    except ValueError:
        value = 0
    if value <= 0:
        raise ValueError(f"{family}:{identifier}: the dimension must be a positive integer")
    return value


class PixelEncoder(Encoder):
    """Flattened pixels scaled to [0, 1]: ``(n, H*W*C)``.

    ``fit`` records the first image's size and mode; other images are converted and
    resized to them.
    """

    requires_fit = True
    modality = "image"

    @property
    def fit_max_items(self) -> int:
        """Most images ``embed`` fits on: 1 for plain pixels (only the first image's size
        and mode are read), a bounded seeded sample for subclasses that learn from the
        pixels (:data:`reprlearn.fitting.FIT_MAX_ITEMS`)."""
        from reprlearn.fitting import FIT_MAX_ITEMS

        return 1 if type(self).fit is PixelEncoder.fit else FIT_MAX_ITEMS

    def fit(self, items: Sequence[Image.Image]) -> PixelEncoder:
        first = items[0]
        self.size_ = tuple(first.size)
        self.mode_ = "L" if first.mode in ("L", "1", "I", "F") else "RGB"
        self.fitted_ = True
        return self

    def pixels(self, items: Sequence[Image.Image]) -> np.ndarray:
        return flatten_images(items, self.size_, self.mode_)

    def encode(self, items: Sequence[Image.Image]) -> np.ndarray:
        return self.pixels(items)

    @property
    def dim(self) -> int:
        """Pixels x channels once fitted; 0 before (the size is read from the data)."""
        if not hasattr(self, "mode_"):
            return 0
        channels = 1 if self.mode_ == "L" else 3
        return self.size_[0] * self.size_[1] * channels

    def state(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        return {}, {"size": list(self.size_), "mode": self.mode_}

    def load_state(self, arrays: dict[str, np.ndarray], config: dict[str, Any]) -> PixelEncoder:
        self.size_, self.mode_, self.fitted_ = tuple(config["size"]), config["mode"], True
        return self


class LinearPixelEncoder(PixelEncoder):
    """Pixels followed by a fitted linear map ``(x - mean_) @ components_.T``."""

    def __init__(self, n_components: int) -> None:
        self.n_components = n_components

    def _fit_linear(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def fit(self, items: Sequence[Image.Image]) -> LinearPixelEncoder:
        super().fit(items)
        X = self.pixels(items)
        if self.n_components > min(X.shape):
            raise ValueError(
                f"{self.name}: {self.n_components} components but the data is {X.shape[0]} x "
                f"{X.shape[1]}; choose at most {min(X.shape)}"
            )
        self.mean_, self.components_ = self._fit_linear(X)
        return self

    def encode(self, items: Sequence[Image.Image]) -> np.ndarray:
        return ((self.pixels(items) - self.mean_) @ self.components_.T).astype(np.float32)

    @property
    def dim(self) -> int:
        return self.n_components

    def state(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        arrays, config = super().state()
        return {"mean": self.mean_, "components": self.components_}, config

    def load_state(self, arrays, config) -> LinearPixelEncoder:
        super().load_state(arrays, config)
        self.mean_, self.components_ = arrays["mean"], arrays["components"]
        return self


class PCAEncoder(LinearPixelEncoder):
    """Principal component analysis of the pixels (scikit-learn ``PCA``, seeded)."""

    def _fit_linear(self, X):
        from sklearn.decomposition import PCA

        pca = PCA(n_components=self.n_components, random_state=0).fit(X)
        self.explained_variance_ratio_ = pca.explained_variance_ratio_
        return pca.mean_.astype(np.float32), pca.components_.astype(np.float32)


class RandomProjectionEncoder(LinearPixelEncoder):
    """Gaussian random projection of the pixels (Johnson-Lindenstrauss; scikit-learn
    ``GaussianRandomProjection``, seed 0)."""

    def _fit_linear(self, X):
        from sklearn.random_projection import GaussianRandomProjection

        rp = GaussianRandomProjection(n_components=self.n_components, random_state=0).fit(X)
        return np.zeros(X.shape[1], np.float32), np.asarray(rp.components_, dtype=np.float32)


@register("pixels", description="flattened pixels scaled to [0, 1]", example="pixels")
def _pixels(identifier: str, **options: Any) -> Encoder:
    return PixelEncoder()


@register("pca", description="PCA of the pixels to D dims (sklearn)", example="pca:32")
def _pca(identifier: str, **options: Any) -> Encoder:
    return PCAEncoder(_positive_int(identifier, "pca"))


@register(
    "random-projection",
    description="Gaussian random projection of the pixels to D dims",
    example="random-projection:32",
)
def _random_projection(identifier: str, **options: Any) -> Encoder:
    return RandomProjectionEncoder(_positive_int(identifier, "random-projection"))
