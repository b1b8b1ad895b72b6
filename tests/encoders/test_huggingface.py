"""``hf:``: tiny random transformers models saved with ``save_pretrained`` and loaded back."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from reprlearn.embed import encode_items
from reprlearn.encoders import load_encoder
from reprlearn.encoders.huggingface import masked_mean


def test_masked_mean_ignores_padding():
    hidden = torch.tensor([[[1.0, 2.0], [3.0, 4.0], [100.0, 100.0]]])
    mask = torch.tensor([[1, 1, 0]])
    assert torch.equal(masked_mean(hidden, mask), torch.tensor([[2.0, 3.0]]))


def test_text_model_is_masked_mean_of_tokens(tiny_bert, mr_sentences):
    from transformers import AutoModel, AutoTokenizer

    enc = load_encoder(f"hf:{tiny_bert}")
    assert enc.modality == "text" and enc.dim == 32
    X = encode_items(enc, mr_sentences, batch_size=8, precision="fp32")
    assert X.shape == (len(mr_sentences), 32) and X.dtype == np.float32
    # reference: one sentence at a time (no padding at all) must give the same vectors
    tok, model = AutoTokenizer.from_pretrained(tiny_bert), AutoModel.from_pretrained(tiny_bert)
    with torch.inference_mode():
        ref = np.stack(
            [
                model(**tok(s, return_tensors="pt", truncation=True))
                .last_hidden_state[0]
                .mean(0)
                .numpy()
                for s in mr_sentences[:10]
            ]
        )
    np.testing.assert_allclose(X[:10], ref, atol=1e-4)
    np.testing.assert_allclose(
        X, encode_items(enc, mr_sentences, batch_size=16, precision="fp32"), atol=1e-5
    )


def _save_vit(folder):
    from transformers import ViTConfig, ViTImageProcessor, ViTModel

    config = ViTConfig(
        image_size=32,
        patch_size=8,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
    )
    ViTModel(config).eval().save_pretrained(folder)
    ViTImageProcessor(size={"height": 32, "width": 32}).save_pretrained(folder)


def test_image_model_uses_processor_and_pooler(tmp_path, digit_images):
    from transformers import AutoModel, ViTImageProcessor

    folder = tmp_path / "tiny-vit"
    _save_vit(folder)
    enc = load_encoder(f"hf:{folder}")
    assert enc.modality == "image" and enc.dim == 32
    x = enc.preprocess(digit_images[0])  # 8x8 grayscale -> RGB 32x32
    assert x.shape == (3, 32, 32)
    X = encode_items(enc, digit_images, precision="fp32")
    assert X.shape == (len(digit_images), 32) and X.dtype == np.float32
    proc, model = ViTImageProcessor.from_pretrained(folder), AutoModel.from_pretrained(folder)
    rgb = [im.convert("RGB") for im in digit_images]
    with torch.inference_mode():
        ref = model(**proc(images=rgb, return_tensors="pt")).pooler_output.numpy()
    np.testing.assert_allclose(X, ref, atol=1e-4)
    assert np.unique(X.round(4), axis=0).shape[0] == len(digit_images)  # different digits differ


def test_conv_model_pooler_is_flattened(tmp_path, digit_images):
    from transformers import ConvNextImageProcessor, ResNetConfig, ResNetModel

    folder = tmp_path / "tiny-resnet"
    config = ResNetConfig(embedding_size=8, hidden_sizes=[8, 16], depths=[1, 1], layer_type="basic")
    ResNetModel(config).eval().save_pretrained(folder)
    ConvNextImageProcessor(size={"shortest_edge": 32}, crop_pct=1.0).save_pretrained(folder)
    enc = load_encoder(f"hf:{folder}")
    assert enc.modality == "image" and enc.dim == 16
    X = encode_items(enc, digit_images[:6], precision="bf16")
    assert X.shape == (6, 16) and X.dtype == np.float32 and np.isfinite(X).all()


def test_modality_errors(tmp_path, tiny_bert):
    with pytest.raises(ValueError, match="no image processor"):
        load_encoder(f"hf:{tiny_bert}", modality="image")
    with pytest.raises(OSError, match="could not load"):
        load_encoder(f"hf:{tmp_path / 'missing'}")
