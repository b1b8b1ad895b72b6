"""``open_clip:``: a tiny random CLIP saved as a hub-style folder (config + safetensors)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from reprlearn.embed import encode_items
from reprlearn.encoders import load_encoder
from reprlearn.encoders.open_clip import parse_open_clip_name

TINY_CFG = {
    "embed_dim": 16,
    "vision_cfg": {"image_size": 32, "layers": 1, "width": 32, "patch_size": 8, "head_width": 16},
    "text_cfg": {"context_length": 32, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 1},
}


@pytest.fixture(scope="module")
def tiny_clip(tmp_path_factory):
    """A random 1-layer CLIP in the layout open_clip reads from ``local-dir:`` / ``hf-hub:``."""
    import open_clip
    from safetensors.torch import save_file

    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("clip") / "tiny-clip"
    folder.mkdir()
    model = open_clip.CLIP(**TINY_CFG)
    config = {"model_cfg": TINY_CFG, "preprocess_cfg": {"mean": [0.5] * 3, "std": [0.5] * 3}}
    (folder / "open_clip_config.json").write_text(json.dumps(config))
    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(folder / "open_clip_model.safetensors"))
    return folder, model.eval()


def test_parse_names(tmp_path):
    assert parse_open_clip_name("ViT-B-32/laion2b_s34b_b79k") == ("ViT-B-32", "laion2b_s34b_b79k")
    assert parse_open_clip_name("RN50") == ("RN50", None)
    assert parse_open_clip_name("hf-hub:org/repo") == ("hf-hub:org/repo", None)
    assert parse_open_clip_name(str(tmp_path)) == (f"local-dir:{tmp_path.resolve()}", None)


def test_image_tower_matches_saved_model(tiny_clip, digit_images):
    folder, original = tiny_clip
    enc = load_encoder(f"open_clip:{folder}")
    assert enc.modality == "image" and enc.dim == 16
    x = enc.preprocess(digit_images[0])
    assert x.shape == (3, 32, 32)
    X = encode_items(enc, digit_images, precision="fp32")
    assert X.shape == (len(digit_images), 16) and X.dtype == np.float32
    with torch.inference_mode():
        ref = original.encode_image(torch.stack([enc.preprocess(im) for im in digit_images]))
    np.testing.assert_allclose(X, ref.numpy(), rtol=1e-4, atol=1e-4)


def test_text_tower(tiny_clip, cosine_rows):
    import open_clip

    folder, original = tiny_clip
    texts = ["a photo of a cat", "a handwritten digit seven", "an airplane in the sky", "zero"]
    enc = load_encoder(f"open_clip:{folder}", modality="text")
    assert enc.modality == "text" and enc.dim == 16
    X = encode_items(enc, texts, precision="fp32")
    with torch.inference_mode():
        tokens = open_clip.get_tokenizer("ViT-B-32", context_length=32)(texts)
        ref = original.encode_text(tokens).numpy()
    assert cosine_rows(X, ref).min() >= 0.9999
    Xb = encode_items(enc, texts, precision="bf16")
    assert cosine_rows(Xb, X).mean() >= 0.99


def test_bad_modality(tiny_clip):
    with pytest.raises(ValueError, match="modality"):
        load_encoder(f"open_clip:{tiny_clip[0]}", modality="audio")


def test_random_weights_from_the_folder_config(tiny_clip, digit_images, tmp_path):
    import shutil

    from safetensors.torch import save_file

    folder = tmp_path / "clip"
    shutil.copytree(tiny_clip[0], folder)
    torch.manual_seed(7)  # "pretrained" weights unlike the seeded random init
    state = {k: v + 0.1 * torch.randn_like(v) for k, v in tiny_clip[1].state_dict().items()}
    save_file(state, str(folder / "open_clip_model.safetensors"))
    pretrained = load_encoder(f"open_clip:{folder}")
    random = load_encoder(f"open_clip:{folder}", random_weights=True)
    assert random.name.endswith("(random weights)") and random.describe()["random_weights"]
    assert pretrained.describe()["random_weights"] is False
    a, b = pretrained.encode(digit_images[:2]), random.encode(digit_images[:2])
    assert a.shape == b.shape and not np.allclose(a, b, atol=1e-3)
