"""Collapse diagnostics on constructed embeddings, and a deliberately collapsing run
(VICReg with only its invariance term) that must raise the collapse warning."""

from __future__ import annotations

import json

import torch

from reprlearn.analysis.geometry import effective_rank, normalized_std
from reprlearn.evaluation.knn import KNNProbe
from reprlearn.training.collapse import is_collapsed


def test_collapse_rule_on_known_cases():
    g = torch.Generator().manual_seed(0)
    gauss = torch.randn(2000, 64, generator=g).numpy()
    const = (torch.ones(500, 64) + 1e-6 * torch.randn(500, 64, generator=g)).numpy()
    assert is_collapsed(normalized_std(const), 64, effective_rank(const))
    assert not is_collapsed(normalized_std(gauss), 64, effective_rank(gauss))


def test_monitor_knn_on_separated_clusters():
    g = torch.Generator().manual_seed(0)
    centers = torch.randn(3, 16, generator=g) * 5
    labels = torch.arange(300) % 3
    bank = (centers[labels] + torch.randn(300, 16, generator=g)).numpy()
    query = (centers[labels[:60]] + torch.randn(60, 16, generator=g)).numpy()
    assert (
        KNNProbe(k=20, backend="torch").fit(bank, labels.numpy()).score(query, labels[:60].numpy())
        == 1.0
    )


def test_invariance_only_vicreg_collapses_and_warns(tmp_path, capsys):
    from reprlearn.training.data import load_image_data
    from reprlearn.training.pretrain import pretrain

    data = load_image_data("digits", max_items=500, seed=0)
    result = pretrain(
        "digits", method="vicreg", out=tmp_path / "run", epochs=2, batch_size=64, lr=0.05,
        data=data, precision="fp32", progress=False,
        method_options={"variance_weight": 0.0, "covariance_weight": 0.0, "expander_dim": 64,
                        "expander_norm": "none"},
    )  # fmt: skip
    records = [json.loads(x) for x in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert len(records) == 2 and records == result.history
    assert any(r["collapsed"] for r in records)
    warned = [r for r in records if r["collapsed"]]
    assert all("collapsed" in r["warning"] for r in warned)
    assert min(r["effective_rank"] for r in records) < 2.0
    assert "representation collapsed" in capsys.readouterr().err.replace("\n", " ")
