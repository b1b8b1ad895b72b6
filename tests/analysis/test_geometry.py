import numpy as np
import pytest
from scipy import special

from reprlearn.analysis import geometry as G


def _brute_mean_cosine(X):
    U = X / np.linalg.norm(X, axis=1, keepdims=True)
    sim = U @ U.T
    return (sim.sum() - np.trace(sim)) / (len(X) * (len(X) - 1))


def test_rank_one_data_is_collapsed():
    rng = np.random.default_rng(0)
    X = np.outer(rng.normal(size=500), rng.normal(size=384)).astype(np.float32)
    g = G.diagnose(X)
    assert g.effective_rank == pytest.approx(1.0, abs=0.05)
    assert g.status == "collapsed"
    assert g.verdict.startswith("collapsed: effective rank 1.0 of 384")


def test_isotropic_gaussian_is_healthy_with_known_uniformity():
    X = np.random.default_rng(0).normal(size=(2000, 64)).astype(np.float32)
    g = G.diagnose(X)
    assert g.effective_rank > 60
    assert abs(g.anisotropy) < 0.01
    assert g.uniformity == pytest.approx(G.sphere_uniformity(64), abs=0.01)
    assert g.normalized_std == pytest.approx(1 / 8, rel=0.02)  # 1/sqrt(64)
    assert g.hubness < 1.0
    assert g.status == "healthy" and g.warnings == []
    assert g.verdict == f"healthy: effective rank {g.effective_rank:.1f} of 64"


def test_sphere_uniformity_closed_forms():
    # d=2: E exp(4 cos) = I0(4); d=3: cosine uniform on [-1, 1] -> sinh(4)/4
    assert G.sphere_uniformity(2) == pytest.approx(np.log(special.i0(4.0)) - 4, abs=1e-9)
    assert G.sphere_uniformity(3) == pytest.approx(np.log(np.sinh(4.0) / 4) - 4, abs=1e-9)
    assert G.sphere_uniformity(4096) == pytest.approx(-4.0, abs=0.01)


def test_sampled_uniformity_agrees_with_exact():
    X = np.random.default_rng(1).normal(size=(6000, 16)).astype(np.float32)
    assert len(X) > G.UNIFORMITY_EXACT_MAX  # the sampled-pairs path
    assert G.uniformity(X) == pytest.approx(G.sphere_uniformity(16), abs=0.02)


def test_effective_rank_is_rankme_formula(digits):
    X, _ = digits
    s = np.linalg.svd(X.astype(np.float64), compute_uv=False)
    p = s / s.sum() + G.RANKME_EPS
    assert G.effective_rank(X) == pytest.approx(np.exp(-(p * np.log(p)).sum()), rel=1e-5)
    # fewer items than dimensions: the n x n Gram path
    s = np.linalg.svd(X[:40].astype(np.float64), compute_uv=False)
    p = s / s.sum() + G.RANKME_EPS
    assert G.effective_rank(X[:40]) == pytest.approx(np.exp(-(p * np.log(p)).sum()), rel=1e-5)


def test_mean_cosine_is_exact(digits):
    X, _ = digits
    assert G.mean_cosine(X) == pytest.approx(_brute_mean_cosine(X.astype(np.float64)), abs=1e-6)


def test_digit_pixels_are_anisotropic_and_centering_fixes_it(digits):
    X, _ = digits
    g = G.diagnose(X)
    assert g.anisotropy > 0.6  # non-negative pixels: every cosine is positive
    assert g.status == "anisotropic"
    assert "mean cosine 0.69" in g.verdict
    centred = G.diagnose(X - X.mean(axis=0))
    assert abs(centred.anisotropy) < 0.01 and centred.status == "healthy"


def test_planted_hub_raises_hubness():
    rng = np.random.default_rng(0)
    d = 256
    offset = np.zeros(d)
    offset[0] = np.sqrt(0.43 * d)
    X = rng.normal(size=(1000, d)) + offset  # items sit at cosine 0.30 +- 0.04 from each other
    hub = offset / np.linalg.norm(offset)  # at cosine ~0.55 from every item
    base = G.diagnose(X.astype(np.float32))
    hubbed = G.diagnose(np.vstack([X, hub]).astype(np.float32))
    assert base.hubness < G.HUBNESS_SKEW and base.status != "hubs"
    assert hubbed.hubness > 4 * base.hubness  # ~25 against ~3: N_k(hub) is about n
    assert hubbed.status == "hubs"
    assert "skewness" in hubbed.verdict


def test_nan_and_inf_rows_are_counted_and_left_out(digits):
    X, _ = digits
    X = X[:500].copy()
    X[3, 5] = np.nan
    X[10, :] = np.nan
    X[20, 0] = np.inf
    g = G.diagnose(X)
    assert (g.nan_rows, g.inf_rows, g.nan_values, g.inf_values) == (2, 1, 65, 1)
    assert g.finite_rows == 497
    assert g.status == "broken"
    assert g.verdict.startswith("broken: 3 of 500 rows contain NaN or inf")
    clean = G.diagnose(np.delete(X, [3, 10, 20], axis=0))
    assert g.effective_rank == pytest.approx(clean.effective_rank)
    assert g.anisotropy == pytest.approx(clean.anisotropy)
    assert any(w.startswith("anisotropic") for w in g.warnings)


def test_duplicates_counted_and_degenerate_store_flagged(digits):
    X, _ = digits
    assert G.duplicate_rows(X) == 0
    assert G.duplicate_rows(np.vstack([X, X[:10]])) == 10
    many = np.vstack([X[:100]] * 5) - X[:100].mean(axis=0)
    g = G.diagnose(many)
    assert g.duplicate_rows == 400
    assert g.status == "duplicated"


def test_identical_rows_have_zero_normalized_std():
    X = np.tile(np.arange(1, 9, dtype=np.float32), (50, 1))
    assert G.normalized_std(X) == pytest.approx(0.0, abs=1e-7)
    assert G.diagnose(X).status == "collapsed"


def test_to_dict_is_json_ready(digits):
    import json

    X, _ = digits
    d = G.diagnose(X[:3]).to_dict()
    json.dumps(d)
    assert d["num_items"] == 3 and d["max_rank"] == 3


def test_mostly_zero_rows_take_the_sparse_paths_with_the_dense_numbers():
    """TF-IDF-like rows (issue 16): mean cosine, normalised std, sampled uniformity and the
    neighbours come from the non-zeros; same numbers as the dense formulas."""
    from reprlearn.analysis.neighbors import nearest_neighbors

    rng = np.random.default_rng(1)
    X = (rng.random((700, 512)) < 0.01) * rng.random((700, 512)).astype(np.float32)
    X[3] = 0.0  # an all-zero row stays zero
    assert G.unit_rows_sparse(X) is not None
    U = X / np.maximum(np.linalg.norm(X, axis=1, keepdims=True), 1e-12)
    pairs = (U.sum(0) @ U.sum(0) - (U * U).sum()) / (700 * 699)  # the zero row counts as 0
    assert G.mean_cosine(X) == pytest.approx(pairs, rel=1e-5)
    assert G.normalized_std(X) == pytest.approx(U.std(axis=0).mean(), rel=1e-5)
    i, j = rng.integers(700, size=(2, 3000))
    want = ((U[i] - U[j]) ** 2).sum(1)
    assert G._pair_sq_distances(G.unit_rows_sparse(X), i, j) == pytest.approx(want, abs=1e-5)
    sparse, dense = G.sparse_nearest_neighbors(X, 5), nearest_neighbors(X, 5)
    assert sparse.cosines == pytest.approx(dense.cosines, abs=1e-6)
    picked = np.array([0, 10, 699])
    some = G.sparse_nearest_neighbors(X, 5, queries=picked)
    assert some.cosines == pytest.approx(dense.cosines[picked], abs=1e-6)


def test_duplicates_of_sparse_rows_counted_from_their_csr_view_as_bit_for_bit():
    """TF-IDF-like rows with repeats, all-zero rows and a -0.0 (not stored in CSR, yet a
    different row bit for bit): grouping by the stored entries gives the dense count, and
    diagnose given inspect's CSR view gives the same geometry as without it."""
    import scipy.sparse as sp

    rng = np.random.default_rng(0)
    X = np.zeros((300, 512), np.float32)
    for i in range(300):
        X[i, rng.choice(512, 6, replace=False)] = rng.random(6).astype(np.float32)
    X[100:140] = X[:40]  # 40 repeats
    X[200:210] = 0.0  # 9 repeats of the first zero row
    X[250] = X[0]
    X[250, np.flatnonzero(X[0] == 0)[0]] = -0.0  # bitwise a new row, the same CSR entries
    S = sp.csr_matrix(X)
    assert S[250].nnz == S[0].nnz and np.signbit(X[250]).any()
    assert G.duplicate_rows(X, S) == G.duplicate_rows(X) == 49
    assert G.diagnose(X, sparse=S) == G.diagnose(X)
