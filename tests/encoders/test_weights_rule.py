"""One rule for every pretrained family (issue 15 item 6, issue 14 "refused pickle"):
pretrained weights, or an error saying they are unavailable offline and how to get them;
random weights only when asked (``random_weights=True`` / ``--random-weights``), recorded
in the name and the manifest; pickled weights holding more than tensors refused."""

from __future__ import annotations

import json
import socket

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from reprlearn.encoders import load_encoder
from reprlearn.encoders.base import UnsafeWeightsError, WeightsUnavailableError
from reprlearn.errors import ReprlearnError


@pytest.fixture
def offline(monkeypatch, tmp_path):
    """No network (every connect refused) and an empty torch.hub cache."""

    def refuse(*args, **kwargs):
        raise OSError(101, "Network is unreachable (test: offline)")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))


def test_torchvision_offline_is_an_error_not_random_weights(offline):
    # before: torchvision:resnet18 silently embedded with random weights
    with pytest.raises(WeightsUnavailableError) as e:
        load_encoder("torchvision:resnet18")
    message = str(e.value)
    assert "unavailable offline" in message and "--random-weights" in message
    assert "resnet18-f37072fd.pth" in message  # the file to download, and where to put it
    assert isinstance(e.value, OSError) and isinstance(e.value, ReprlearnError)


def test_random_weights_only_when_asked_and_recorded(offline):
    enc = load_encoder("torchvision:resnet18", random_weights=True)
    assert enc.name == "torchvision:resnet18 (random weights)"
    assert enc.describe()["random_weights"] is True
    again = load_encoder(enc.name)  # the manifest's name rebuilds the same encoder
    assert again.random_weights is True and again.name == enc.name
    for a, b in zip(enc.model.parameters(), again.model.parameters(), strict=True):
        torch.testing.assert_close(a, b)  # seeded: the same random weights every time


def test_timm_error_names_the_option():
    with pytest.raises(ValueError, match="unknown model"):
        load_encoder("timm:no_such_model_xyz")


def test_random_weights_refused_for_families_without_pretrained_weights():
    with pytest.raises(ReprlearnError, match="--random-weights applies to"):
        load_encoder("pca:8", random_weights=True)
    assert load_encoder("pca:8").describe().get("random_weights") is None


def test_open_clip_architecture_without_tag_is_an_error():
    # before: open_clip:RN50 was silently random
    with pytest.raises(ValueError, match="openai") as e:
        load_encoder("open_clip:RN50")
    assert "--random-weights" in str(e.value)


def test_hf_random_weights_from_config_and_pretrained_by_default(tiny_bert, mr_sentences):
    from transformers import AutoModel

    torch.manual_seed(123)  # "pretrained" weights unlike the seeded random init
    model = AutoModel.from_pretrained(tiny_bert)
    model.init_weights()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.1)
    model.save_pretrained(tiny_bert)
    pretrained = load_encoder(f"hf:{tiny_bert}")
    assert pretrained.describe()["random_weights"] is False
    random = load_encoder(f"hf:{tiny_bert}", random_weights=True)
    a, b = pretrained.encode(mr_sentences[:4]), random.encode(mr_sentences[:4])
    assert a.shape == b.shape and not np.allclose(a, b)
    (tiny_bert / "model.safetensors").unlink()
    with pytest.raises(WeightsUnavailableError, match="--random-weights"):
        load_encoder(f"hf:{tiny_bert}")
    assert load_encoder(f"hf:{tiny_bert}", random_weights=True).dim == 32  # config only


class _Evil:
    def __reduce__(self):
        return (print, ("unpickled: this could have been any code",))


def _pickled_bert(folder):
    """Replace the safetensors weights by a pytorch_model.bin pickle holding an object."""
    (folder / "model.safetensors").unlink()
    torch.save({"evil": _Evil()}, folder / "pytorch_model.bin")
    return folder


def test_hf_refuses_a_pickle_with_one_line(tiny_bert):
    with pytest.raises(UnsafeWeightsError) as e:
        load_encoder(f"hf:{_pickled_bert(tiny_bert)}")
    message = str(e.value)
    assert "pytorch_model.bin" in message and "arbitrary code" in message
    assert "safetensors" in message and "\n" not in message


def test_st_refuses_a_pickle(tmp_path, tiny_bert):
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Pooling, Transformer

    folder = tmp_path / "st"
    SentenceTransformer(modules=[Transformer(str(tiny_bert)), Pooling(32, "mean")]).save(
        str(folder)
    )
    assert load_encoder(f"st:{folder}", random_weights=True).random_weights is True
    _pickled_bert(folder)
    with pytest.raises(UnsafeWeightsError, match="pytorch_model.bin"):
        load_encoder(f"st:{folder}")


def test_cli_embed_random_weights_in_manifest_and_summary(tmp_path, digits):
    from reprlearn.cli import _register_commands, app

    _register_commands()
    for i, row in enumerate(digits.select(range(8))):
        (tmp_path / "images" / str(row["label"])).mkdir(parents=True, exist_ok=True)
        row["image"].save(tmp_path / "images" / str(row["label"]) / f"{i}.png")
    out = tmp_path / "store"
    images = str(tmp_path / "images")
    args = ["embed", images, "-e", "timm:test_resnet", "-o", str(out), "--random-weights"]
    result = CliRunner().invoke(app, [*args, "--json", "--batch-size", "256"])
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["encoder"]["random_weights"] is True
    assert manifest["encoder_name"] == "timm:test_resnet (random weights)"
    assert "random weights" in result.output  # the summary names the encoder as it is


def test_names_round_trip_and_which_families_have_weights():
    from reprlearn.encoders.registry import has_pretrained_weights, split_random_weights

    assert split_random_weights("timm:resnet18 (random weights)") == ("timm:resnet18", True)
    assert split_random_weights("pca:8") == ("pca:8", False)
    assert has_pretrained_weights("minilm") and has_pretrained_weights("torchvision:resnet18")
    assert not has_pretrained_weights("pca:8") and not has_pretrained_weights("tfidf")


@pytest.mark.slow
def test_cli_compare_random_weights_named_in_results(tmp_path):
    from reprlearn.cli import _register_commands, app
    from reprlearn.data import load_dataset

    _register_commands()
    for i, row in enumerate(load_dataset("digits").select(range(100))):
        (tmp_path / "images" / str(row["label"])).mkdir(parents=True, exist_ok=True)
        row["image"].save(tmp_path / "images" / str(row["label"]) / f"{i}.png")
    out = tmp_path / "report"
    args = ["compare", str(tmp_path / "images"), "--encoders", "pca:4,timm:test_resnet",
            "--random-weights", "--protocols", "linear", "-o", str(out)]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    results = json.loads((out / "results.json").read_text())
    names = {e["encoder"] for e in results["ranking"]}
    assert names == {"pca:4", "timm:test_resnet (random weights)"}  # pca as usual
    assert "timm:test_resnet (random weights)" in (out / "report.html").read_text()
