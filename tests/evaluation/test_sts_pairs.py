import json

import numpy as np
import pytest
from scipy.stats import pearsonr, spearmanr

from reprlearn.errors import DataError
from reprlearn.evaluation.sts import paired_cosine, read_pairs, sts, sts_scores

TEXT = (
    "the movie was a quiet triumph of acting and light while the plot wandered through "
    "rain soaked streets full of music dogs trains and old friends who never call back"
)
WORDS = TEXT.split()


def graded_pairs(n: int = 60, seed: int = 0) -> list[dict]:
    """Pairs whose second sentence keeps 2*g of the first's 10 words; gold g in 0..5."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        a = list(rng.choice(WORDS, size=10, replace=False))
        keep = i % 6  # 0..5 of the 10 words kept, the rest replaced by other words
        others = [w for w in WORDS if w not in a]
        b = a[: 2 * keep] + list(rng.choice(others, size=10 - 2 * keep, replace=False))
        rows.append({"s1": " ".join(a), "s2": " ".join(b), "gold": keep})
    return rows


def test_scores_equal_scipy_on_cosines():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(50, 16)), rng.normal(size=(50, 16))
    gold = rng.random(50)
    res = sts_scores(a, b, gold, n_resamples=200)
    cos = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    np.testing.assert_allclose(paired_cosine(a, b), cos, rtol=1e-5)
    assert res.spearman.value == pytest.approx(100 * spearmanr(cos, gold).statistic, abs=1e-3)
    assert res.pearson.value == pytest.approx(100 * pearsonr(cos, gold).statistic, abs=1e-3)
    assert res.spearman.ci_low < res.spearman.value < res.spearman.ci_high
    assert res.n_pairs == 50


def test_monotone_gold_gives_100():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(30, 8))
    a /= np.linalg.norm(a, axis=1, keepdims=True)
    o = rng.normal(size=(30, 8))
    o -= (o * a).sum(1, keepdims=True) * a  # orthogonal to a
    o /= np.linalg.norm(o, axis=1, keepdims=True)
    theta = np.linspace(0.1, 3.0, 30)
    b = np.cos(theta)[:, None] * a + np.sin(theta)[:, None] * o  # cosine(a, b) = cos(theta)
    np.testing.assert_allclose(paired_cosine(a, b), np.cos(theta), atol=1e-5)
    res = sts_scores(a, b, -theta, n_resamples=100)  # gold falls as the angle grows
    assert res.spearman.value == pytest.approx(100)
    assert res.pearson.value == pytest.approx(
        100 * pearsonr(np.cos(theta), -theta).statistic, abs=1e-3
    )
    with pytest.raises(ValueError):
        sts_scores(a[:2], b[:2], [1, 2])


def test_read_pairs_formats_and_missing_column(tmp_path):
    rows = graded_pairs(6)
    csv = tmp_path / "p.csv"
    csv.write_text("s1,s2,gold\n" + "".join(f"{r['s1']},{r['s2']},{r['gold']}\n" for r in rows))
    tsv = tmp_path / "p.tsv"
    tsv.write_text("s1\ts2\tgold\n" + "".join(f"{r['s1']}\t{r['s2']}\t{r['gold']}\n" for r in rows))
    jsonl = tmp_path / "p.jsonl"
    jsonl.write_text("".join(json.dumps(r) + "\n" for r in rows))
    frames = [read_pairs(p, "s1", "s2", "gold") for p in (csv, tsv, jsonl)]
    for f in frames:
        assert f["score"].tolist() == [r["gold"] for r in rows]
        assert f["sentence1"].tolist() == [r["s1"] for r in rows]
    with pytest.raises(
        DataError, match=r"no column 'sentence1'.*\['s1', 's2', 'gold'\].*--sentence1-column"
    ):
        read_pairs(csv)
    bad = tmp_path / "bad.csv"
    bad.write_text("sentence1,sentence2,score\na,b,1\nc,d,high\n")
    with pytest.raises(DataError, match="row 2.*'high'"):
        read_pairs(bad)
    with pytest.raises(DataError, match="no such file"):
        read_pairs(tmp_path / "missing.csv")


def test_sts_end_to_end_with_tfidf(tmp_path):
    from reprlearn.embed import encode_items
    from reprlearn.encoders.registry import load_encoder

    rows = graded_pairs(60)
    path = tmp_path / "pairs.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    res = sts(path, "tfidf", "s1", "s2", "gold", device="cpu")
    assert res.spearman.value > 80  # word overlap drives tf-idf cosine
    texts = [r["s1"] for r in rows] + [r["s2"] for r in rows]
    emb = encode_items(load_encoder("tfidf"), texts, device="cpu")
    direct = sts_scores(emb[:60], emb[60:], [r["gold"] for r in rows])
    assert res.spearman.value == pytest.approx(direct.spearman.value)
    assert res.encoder == "tfidf" and res.to_dict()["n_pairs"] == 60
