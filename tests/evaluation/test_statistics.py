import numpy as np
import pytest

from reprlearn.evaluation.statistics import accuracy_with_ci, bootstrap_ci, mean_std


def test_mean_std_matches_numpy_population_std():
    values = [0.8, 0.9, 0.85, 0.7]
    score = mean_std(values)
    assert score.value == pytest.approx(np.mean(values))
    assert score.std == pytest.approx(np.std(values, ddof=0))
    assert score.n == 4
    with pytest.raises(ValueError):
        mean_std([])


def test_bootstrap_interval_is_seeded_and_covers_the_mean():
    rng = np.random.default_rng(1)
    correct = (rng.random(500) < 0.7).astype(float)
    low, high = bootstrap_ci(correct, seed=3)
    assert (low, high) == bootstrap_ci(correct, seed=3)
    assert low < correct.mean() < high
    # binomial standard error: the 95% interval is about +-1.96 * sqrt(p(1-p)/n)
    half = 1.96 * np.sqrt(0.7 * 0.3 / 500)
    assert (high - low) / 2 == pytest.approx(half, rel=0.2)


def test_bootstrap_interval_narrows_with_more_items():
    rng = np.random.default_rng(0)
    small = bootstrap_ci((rng.random(100) < 0.5).astype(float))
    large = bootstrap_ci((rng.random(10_000) < 0.5).astype(float))
    assert large[1] - large[0] < (small[1] - small[0]) / 5


def test_bootstrap_with_a_custom_statistic_on_rows():
    rng = np.random.default_rng(0)
    x = rng.normal(size=300)
    pairs = np.stack([x, x + rng.normal(scale=0.5, size=300)], axis=1)
    low, high = bootstrap_ci(pairs, lambda p: float(np.corrcoef(p.T)[0, 1]), n_resamples=300)
    r = np.corrcoef(pairs.T)[0, 1]
    assert low < r < high < 1


def test_accuracy_with_ci():
    y = np.array([0, 1, 1, 0, 1, 0, 1, 1])
    pred = np.array([0, 1, 0, 0, 1, 1, 1, 1])
    score = accuracy_with_ci(y, pred)
    assert score.value == pytest.approx(0.75)
    assert 0 <= score.ci_low <= 0.75 <= score.ci_high <= 1
    with pytest.raises(ValueError):
        bootstrap_ci(np.array([]))
