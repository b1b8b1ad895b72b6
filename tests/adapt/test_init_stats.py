"""The physics of initialisation (Glorot & Bengio 2010; He et al. 2015) and the head's
activation log during finetune."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import torch

from reprlearn.adapt.classifier import build_head
from reprlearn.adapt.init_stats import init_stats


def _stds(result, init, act):
    r = next(x for x in result.results if x["init"] == init and x["activation"] == act)
    return [layer["std"] for layer in r["layers"]], r["layers"]


def test_he_keeps_relu_std_while_small_normal_vanishes():
    result = init_stats(["he", "normal:0.01"], ["relu"], depth=10, width=256, n=500)
    he, layers = _stds(result, "he", "relu")
    assert 0.5 < he[9] / he[0] < 2.0
    assert 0.4 < layers[0]["dead"] < 0.6  # half the ReLU units are off for symmetric inputs
    small, _ = _stds(result, "normal:0.01", "relu")
    assert small[0] / small[9] > 100


def test_sigmoid_with_unit_normal_init_saturates_by_layer_5():
    result = init_stats(["normal:1", "xavier"], ["sigmoid"], depth=5, width=256, n=500)
    _, layers = _stds(result, "normal:1", "sigmoid")
    assert layers[4]["saturated"] > 0.5
    _, xavier = _stds(result, "xavier", "sigmoid")
    assert xavier[4]["saturated"] < 0.05


def test_zero_init_symmetry_never_breaks(digits_features):
    X, y = digits_features
    torch.manual_seed(0)
    head = build_head(X.shape[1], 10, head="mlp", hidden=(16, 16), init="zeros",
                      activation="sigmoid", input_norm="none")  # fmt: skip
    opt = torch.optim.SGD(head.parameters(), lr=0.5)
    for _ in range(30):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(head(X), y).backward()
        opt.step()
    linears = [m for m in head.modules() if isinstance(m, torch.nn.Linear)]
    for lin in linears[:-1]:  # hidden layers: every unit (row) identical to the first
        w = lin.weight.detach()
        assert torch.allclose(w, w[0].expand_as(w), atol=1e-6)
    out_w = linears[-1].weight.detach()  # ... so each class sees identical hidden units
    assert torch.allclose(out_w, out_w[:, :1].expand_as(out_w), atol=1e-6)
    assert out_w.abs().max() > 1e-3  # it did train: the weights moved from 0


@pytest.fixture
def digits_features():
    from sklearn.datasets import load_digits

    d = load_digits()
    return torch.tensor(d.data[:300] / 16, dtype=torch.float32), torch.tensor(d.target[:300])


def test_bad_init_is_a_clear_error():
    with pytest.raises(ValueError, match="normal:0.01"):
        init_stats(["normal:x"], ["relu"])
    with pytest.raises(ValueError, match="unknown init"):
        init_stats(["glorot"], ["relu"])


def test_cli_json_shape(tmp_path):
    png = tmp_path / "init.png"
    proc = subprocess.run(
        [sys.executable, "-m", "reprlearn.cli", "init-stats", "--init", "he,zeros",
         "--activation", "relu", "--depth", "3", "--width", "32", "--json", "--out", str(png)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    data = json.loads(proc.stdout)
    first = data["results"][0]
    assert first["init"] == "he" and first["activation"] == "relu"
    assert set(first["layers"][0]) >= {"layer", "std", "saturated", "dead"}
    assert [x["layer"] for x in first["layers"]] == [1, 2, 3]
    assert png.stat().st_size > 10_000


def test_finetune_logs_head_activations_and_warns_on_vanishing(tmp_path):
    from reprlearn.adapt.finetune import finetune

    with pytest.warns(RuntimeWarning, match="vanish"):
        r = finetune("digits", "pca:16", head="mlp", head_hidden=(32, 32, 32), init="normal:0.001",
                     activation="tanh", input_norm="none", epochs=1, lr=1e-7, out=tmp_path / "ft",
                     progress=False, precision="fp32", min_steps=0, lp_epochs=1)  # fmt: skip
    rec = r.history[0]
    layers = rec["head_activations"]
    assert [x["layer"] for x in layers] == [1, 2, 3]
    assert layers[2]["std"] < 1e-3 and any("vanish" in w for w in rec["warnings"])
    assert np.isfinite([x["mean"] for x in layers]).all()
