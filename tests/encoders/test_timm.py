"""``timm:``: a tiny random timm model saved hub-style and loaded back through ``local-dir:``."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from reprlearn.embed import embed, encode_items
from reprlearn.encoders import load_encoder


def test_local_folder_loads_saved_weights_and_transform(tiny_timm, digit_images):
    import timm.data

    folder, original = tiny_timm
    enc = load_encoder(f"timm:{folder}")
    assert enc.modality == "image" and enc.dim == original.num_features
    assert enc.describe()["input_size"] == [3, 160, 160]
    x = enc.preprocess(digit_images[0])  # 8x8 grayscale -> RGB, resized + cropped to 160
    assert x.shape == (3, 160, 160) and x.dtype == torch.float32
    X = encode_items(enc, digit_images, precision="fp32")
    assert X.shape == (len(digit_images), enc.dim) and X.dtype == np.float32
    # reference: the saved model with its classifier reset, timm's own transform
    original.reset_classifier(0)
    cfg = timm.data.resolve_model_data_config(original)
    transform = timm.data.create_transform(**cfg, is_training=False)
    with torch.inference_mode():
        ref = original.eval()(torch.stack([transform(im.convert("RGB")) for im in digit_images]))
    np.testing.assert_allclose(X, ref.numpy(), rtol=1e-4, atol=1e-4)


def test_embed_store_bf16_close_to_fp32(tiny_timm, digits, tmp_path, cosine_rows):
    folder, _ = tiny_timm
    digits = digits.select(range(12))
    enc = load_encoder(f"timm:{folder}")
    bf16 = embed(digits, enc, tmp_path / "a", precision="bf16", num_workers=0, progress=False)
    fp32 = embed(digits, enc, tmp_path / "b", precision="fp32", num_workers=0, progress=False)
    Xb, y = bf16.to_numpy()
    Xf, _ = fp32.to_numpy()
    assert Xb.shape == (digits.num_rows, enc.dim) and (y == np.asarray(digits["label"])).all()
    assert cosine_rows(Xb, Xf).mean() >= 0.99


def test_random_init_by_name_and_errors():
    enc = load_encoder("timm:test_resnet", random_weights=True)
    assert enc.dim > 0
    with pytest.raises(ValueError, match="unknown model"):
        load_encoder("timm:no_such_model_xyz", random_weights=True)
    with pytest.raises(ValueError, match="images only"):
        load_encoder("timm:test_resnet", modality="text")
