"""finetune's attention check (issue 12, part 4): a Grad-CAM panel of test images and the
CAM energy inside the object on shapes, flagged when no better than a uniform map."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

pytest.importorskip("pytorch_grad_cam")


def test_finetune_writes_a_cam_panel_and_the_energy_inside(tiny_run):
    att = json.loads((tiny_run / "results.json").read_text())["attention"]
    assert (tiny_run / att["cams"]).is_file()
    assert att["method"] == "gradcam" and att["n"] == 16
    assert 0.0 <= att["energy_inside"] <= 1.0
    assert 0.02 < att["area_share"] < 0.3  # shapes' objects cover a few % of the image
    expect_flag = att["energy_inside"] < 1.5 * att["area_share"]
    assert (att["flag"] == "attention outside the object") == expect_flag


@pytest.mark.parametrize(("lift", "flagged"), [(0.5, True), (1.4, True), (2.0, False)])
def test_flag_when_no_better_than_a_uniform_map(tiny_run, monkeypatch, lift, flagged):
    import sys

    import reprlearn.explain  # noqa: F401 (the package: reprlearn.explain is the function)
    from reprlearn.adapt.attention import attention_check
    from reprlearn.adapt.classifier import load_adapted_encoder
    from reprlearn.data.shapes import make_shapes, shape_masks

    ds = make_shapes(40, size=16, seed=5)
    area = float(shape_masks(ds).mean())
    fake = SimpleNamespace(energy_inside=lift * area, layer="x", n=16)  # lift x uniform
    monkeypatch.setattr(
        sys.modules["reprlearn.explain"], "explain", lambda *a, **k: fake, raising=False
    )
    enc, _ = load_adapted_encoder(tiny_run)
    att = attention_check(tiny_run, ds, enc)
    assert att["area_share"] == pytest.approx(area)
    assert (att["flag"] is not None) == flagged


def test_no_panel_for_text_or_classical_encoders(tmp_path):
    from reprlearn.adapt.attention import attention_check
    from reprlearn.data.shapes import make_shapes
    from reprlearn.encoders.registry import load_encoder

    assert attention_check(tmp_path, make_shapes(10), load_encoder("pixels")) is None
