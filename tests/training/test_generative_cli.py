"""``generate`` / ``reconstruct`` / ``traverse`` under bad input: a missing or unfinished
run, out-of-range numbers and unusable ``--out`` paths give one clear line (exit 2), and
the previews are large enough to see."""

from __future__ import annotations

import pytest
from PIL import Image
from typer.testing import CliRunner

from reprlearn.cli import _register_commands
from reprlearn.cli.app import app
from reprlearn.training.backbones import build_backbone
from reprlearn.training.checkpoint import export_run
from reprlearn.training.methods import get_method

runner = CliRunner()


@pytest.fixture(scope="module", autouse=True)
def _commands():
    _register_commands()


@pytest.fixture(scope="module")
def vae_run(tmp_path_factory):
    """An (untrained) VAE run folder in the exported format of ``reprlearn pretrain``."""
    backbone, feat = build_backbone("mlp", 1, 8)
    method = get_method("vae")(backbone=backbone, feat_dim=feat, input_shape=(1, 8, 8),
                               latent_dim=3)  # fmt: skip
    out = tmp_path_factory.mktemp("vae") / "run"
    export_run(method, out, {"backbone": "mlp", "input_shape": [1, 8, 8], "normalization": None})
    return out


def _fails(args: list[str], message: str) -> None:
    res = runner.invoke(app, args)
    text = " ".join(res.output.split())
    assert res.exit_code == 2 and message in text, (res.exit_code, res.output, res.exception)


def test_missing_or_unfinished_run_is_one_clear_line(tmp_path):
    for command in (["generate"], ["reconstruct"], ["traverse"]):
        extra = [] if command == ["generate"] else ["digits"]
        _fails([*command, str(tmp_path / "nope"), *extra], "no such run folder")
    unfinished = tmp_path / "unfinished"
    unfinished.mkdir()
    (unfinished / "last.ckpt").write_bytes(b"")
    _fails(["generate", str(unfinished)], "unfinished")
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "config.json").write_text("{not json")
    _fails(["generate", str(tmp_path / "broken")], "not valid JSON")


def test_bad_numbers_and_out_paths(tmp_path, vae_run):
    _fails(["generate", str(vae_run), "--out", str(tmp_path)], "is a folder")
    _fails(["generate", str(vae_run), "--out", str(tmp_path / "samples")], "ending in .png")
    assert runner.invoke(app, ["generate", str(vae_run), "--n", "0"]).exit_code == 2
    _fails(["reconstruct", str(vae_run), "digits", "--start", "5000",
            "--out", str(tmp_path / "r.png")], "no row 5000")  # fmt: skip
    assert (
        runner.invoke(app, ["reconstruct", str(vae_run), "digits", "--start", "-1"]).exit_code == 2
    )
    for limit in ("0", "-1", "nan"):
        _fails(["traverse", str(vae_run), "digits", "--limit", limit,
                "--out", str(tmp_path / "t.png")], "--limit must be a positive number")  # fmt: skip
    assert not any(tmp_path.glob("*.png"))


def test_generate_preview_is_large_enough_to_see(tmp_path, vae_run):
    out = tmp_path / "deep" / "samples.png"
    res = runner.invoke(app, ["generate", str(vae_run), "--n", "9", "--out", str(out)])
    assert res.exit_code == 0, res.output
    with Image.open(out) as im:  # 3 x 3 samples of 8 px, 1 px padding, upscaled
        scale = im.width // (3 * 9 + 1)
        assert im.width >= 800 and 8 * scale >= 96
