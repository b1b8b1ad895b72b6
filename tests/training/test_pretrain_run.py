"""``pretrain`` end to end on digits (CPU, fp32, deterministic): the run folder, exact
resume after a stop, and the exported ``ckpt:`` encoder."""

from __future__ import annotations

import json

import lightning as L
import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from reprlearn.errors import ReprlearnError
from reprlearn.training.data import load_image_data
from reprlearn.training.pretrain import pretrain

SMALL = {"proj_hidden": 64, "proj_out": 32}


@pytest.fixture(scope="module")
def data():
    return load_image_data("digits", max_items=400, seed=0)


def _run(out, data, **kw):
    args = dict(method="simclr", epochs=2, batch_size=64, precision="fp32", progress=False,
                method_options=SMALL, data=data, seed=0)  # fmt: skip
    args.update(kw)
    return pretrain("digits", out=out, **args)


class StopAfterFirstEpoch(L.Callback):
    """Simulates an interruption right after epoch 0's checkpoint."""

    def on_train_epoch_end(self, trainer, pl_module):
        trainer.should_stop = True


def test_data_split(data):
    assert data.input_shape == (1, 8, 8)
    assert len(data.train) + len(data.holdout) == 400 and len(data.holdout) == 80
    assert data.train.dtype == torch.uint8 and int(data.train.max()) == 255
    assert data.label_names == [str(i) for i in range(10)]
    assert data.source["source"] == "digits"


def test_stop_and_resume_equals_uninterrupted(tmp_path, data):
    full = _run(tmp_path / "full", data, backbone="mlp")
    part = _run(tmp_path / "part", data, backbone="mlp", callbacks=[StopAfterFirstEpoch()])
    assert [r["epoch"] for r in part.history] == [0]
    resumed = _run(tmp_path / "part", data, backbone="mlp", resume=True)
    assert [r["epoch"] for r in resumed.history] == [0, 1]
    a = load_file(tmp_path / "full" / "method.safetensors")
    b = load_file(tmp_path / "part" / "method.safetensors")
    assert a.keys() == b.keys()
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=0, atol=1e-6, msg=key)
    assert resumed.final["loss"] == pytest.approx(full.final["loss"], abs=1e-6)
    with pytest.raises(ReprlearnError, match="resume"):
        _run(tmp_path / "full", data)  # refuses to overwrite a run


def test_run_folder_and_ckpt_encoder(tmp_path, data):
    from PIL import Image

    from reprlearn.data import load_dataset
    from reprlearn.encoders import load_encoder

    out = tmp_path / "byol"
    result = _run(out, data, method="byol", epochs=1)
    for name in ("log.jsonl", "curves.png", "last.ckpt", "config.json", "backbone.safetensors",
                 "method.safetensors"):  # fmt: skip
        assert (out / name).is_file(), name
    config = json.loads((out / "config.json").read_text())
    assert config["method"] == "byol" and config["input_shape"] == [1, 8, 8]
    assert config["feat_dim"] == 128 and config["method_config"]["proj_out"] == 32
    record = result.final
    assert 0.5 < record["knn_top1"] <= 1.0 and record["effective_rank"] > 1
    ds = load_dataset("digits").select(range(20))
    images = [row["image"] for row in ds]
    enc = load_encoder(result.encoder)
    z = enc.encode(images)
    assert z.shape == (20, 128) and z.dtype == np.float32 and enc.dim == 128
    # same numbers as the trained method on the training tensors
    x = torch.tensor(np.stack([np.asarray(im) for im in images]) / 255, dtype=torch.float32)
    method = enc.model
    with torch.no_grad():
        ref = method.embed(x.unsqueeze(1)).numpy()
    np.testing.assert_allclose(z, ref, atol=1e-5)
    # the exported backbone alone gives the same embeddings
    from reprlearn.training.backbones import build_backbone

    norm = config["normalization"]
    bb, _ = build_backbone("small_cnn", 1, 8, norm["mean"], norm["std"])
    bb.load_state_dict(load_file(out / "backbone.safetensors"))
    with torch.no_grad():
        np.testing.assert_allclose(bb.eval()(x.unsqueeze(1)).numpy(), z, atol=1e-5)
    # a larger RGB image is converted and resized like the training data
    big = Image.new("RGB", (32, 32), (200, 10, 10))
    assert enc.encode([big]).shape == (1, 128)


def test_ckpt_encoder_errors(tmp_path):
    from reprlearn.encoders import load_encoder
    from reprlearn.errors import StoreError

    with pytest.raises(StoreError, match="config.json"):
        load_encoder(f"ckpt:{tmp_path}")
