"""Image encoders run ``channels_last`` (:mod:`reprlearn.encoders.memory_format`): same
vectors as timm's own NCHW model, on real digits."""

from __future__ import annotations

import numpy as np
import torch

from reprlearn.embed import embed, encode_items
from reprlearn.encoders import load_encoder


def _reference(model, enc, images, dtype=torch.float32) -> np.ndarray:
    batch = torch.stack([enc.preprocess(im) for im in images])  # contiguous NCHW
    with torch.inference_mode():
        return model.to(dtype)(batch.to(dtype)).float().numpy()


def test_timm_weights_and_batches_are_channels_last_same_vectors(tiny_timm, digit_images):
    folder, model = tiny_timm
    enc = load_encoder(f"timm:{folder}")
    images = digit_images[:6]
    X = encode_items(enc, images, precision="fp32")
    conv = next(m for m in enc.model.modules() if isinstance(m, torch.nn.Conv2d))
    assert conv.weight.is_contiguous(memory_format=torch.channels_last)
    batch = enc.move(torch.stack([enc.preprocess(im) for im in digit_images[:2]]))
    assert batch.is_contiguous(memory_format=torch.channels_last)
    np.testing.assert_allclose(X, _reference(model, enc, images), rtol=1e-4, atol=1e-4)


def test_bf16_channels_last_in_workers_matches_plain_bf16(tiny_timm, digits, cosine_rows):
    """The store path (decoding in a DataLoader worker, bf16, channels_last) against a
    plain bf16 NCHW forward pass of the same weights."""
    folder, model = tiny_timm
    enc = load_encoder(f"timm:{folder}")
    rows = digits.select(range(4))
    store = embed(rows, enc, None, precision="bf16", num_workers=1, progress=False)
    X, _ = store.to_numpy()
    ref = _reference(model, enc, list(rows["image"]), torch.bfloat16)
    assert cosine_rows(X, ref).min() >= 0.999
    assert store.ids().tolist() == list(range(4))


def test_torchvision_runs_channels_last(digit_images):
    enc = load_encoder("torchvision:resnet18", random_weights=True)
    X = encode_items(enc, digit_images[:2], precision="fp32")
    conv = next(m for m in enc.model.modules() if isinstance(m, torch.nn.Conv2d))
    assert conv.weight.is_contiguous(memory_format=torch.channels_last)
    assert X.shape == (2, enc.dim) and np.isfinite(X).all()
