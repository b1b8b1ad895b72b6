"""Factor probes + DCI/MIG: constructed codes with known answers and a real shapes store."""

from __future__ import annotations

import json

import numpy as np
import pytest

from reprlearn.data import load_dataset
from reprlearn.embed import embed
from reprlearn.errors import DataError
from reprlearn.evaluation.factors import probe_factors, score_factors


def _factors(n: int = 800, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {"a": rng.integers(0, 4, n), "b": rng.integers(0, 3, n), "c": rng.normal(size=n)}


def test_oracle_code_scores_perfectly_and_noise_at_chance():
    f = _factors()
    rng = np.random.default_rng(1)
    oracle = np.stack([f["a"], f["b"], f["c"]], 1) + 0.01 * rng.standard_normal((800, 3))
    good = score_factors(oracle, f, encoder="oracle", dci_method="forest")
    by = {s.factor: s for s in good.factors}
    assert by["a"].kind == "discrete" and by["a"].n_values == 4
    assert by["c"].kind == "continuous" and by["c"].score > 0.99
    # a linear probe cannot read the categorical 'a' from one linear coordinate perfectly,
    # but far above chance; trees (DCI informativeness) read it exactly
    assert by["b"].score > 0.9 and by["a"].score > by["a"].chance + 0.3
    assert good.dci.disentanglement > 0.85 and good.dci.completeness > 0.85
    assert good.mig.mig > 0.6
    noise = score_factors(rng.standard_normal((800, 3)), f, dci_method="forest")
    for s in noise.factors:
        assert s.score < (s.chance + 0.12 if s.kind == "discrete" else 0.05)
    assert noise.mig.mig < 0.05
    d = good.to_dict()
    assert json.loads(json.dumps(d))["factors"][0]["factor"] == "a"
    assert good.table().row_count == len(f) + 2
    fast = score_factors(oracle, f, disentanglement=False)
    assert fast.dci is None and fast.mig is None and fast.to_dict()["dci"] is None
    assert [s.score for s in fast.factors] == [s.score for s in good.factors]


def test_probe_factors_on_a_shapes_store(tmp_path):
    ds = load_dataset("shapes", n=400, seed=0)
    store = embed(ds, "pca:20", tmp_path / "store", progress=False)
    report = probe_factors(store, dci_method="forest")
    by = {s.factor: s for s in report.factors}
    assert set(by) == {"shape", "color", "size", "x", "y"}
    assert report.n == 400 and report.encoder == "pca:20"
    # colour is what PCA of RGB pixels sees first
    assert by["color"].score > 0.6 > by["color"].chance
    assert all(0 <= s.score <= 1 for s in report.factors)
    assert 0 <= report.dci.disentanglement <= 1 and 0 <= report.mig.mig <= 1


def test_source_without_factors_is_a_clear_error(tmp_path):
    store = embed(load_dataset("digits").select(range(60)), "pca:4", tmp_path / "s", progress=False)
    with pytest.raises(DataError, match="no factor columns|no source spec"):
        probe_factors(store)
