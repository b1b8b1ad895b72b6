"""w2v:/fasttext:/glove: encoders: mean and SIF against direct computations, OOV counts,
file formats and bad input."""

import numpy as np
import pytest

from reprlearn.encoders import load_encoder
from reprlearn.errors import DataError

VECS = {
    "the": [1.0, 0.0, 0.0],
    "film": [0.0, 2.0, 0.0],
    "movie": [0.0, 1.8, 0.4],
    "good": [0.5, 0.5, 1.0],
    "bad": [0.5, -0.5, -1.0],
}
COUNTS = {"the": 1000, "film": 50, "movie": 40, "good": 30, "bad": 20}
TEXTS = ["The film, good!", "the bad movie", "good good film", "the zzz film qqq", "zzz"]


@pytest.fixture
def folder(tmp_path):
    from gensim.models import KeyedVectors

    from reprlearn.words.vectors import save_vectors

    kv = KeyedVectors(3, count=0)
    kv.add_vectors(list(VECS), np.array(list(VECS.values()), dtype=np.float32))
    kv.expandos["count"] = np.array([COUNTS[w] for w in VECS], dtype=np.int64)
    return save_vectors(kv, tmp_path / "vecs", {"method": "constructed"})


def test_mean_of_word_vectors_and_oov_counts(folder):
    enc = load_encoder(f"w2v:{folder}")
    X = enc.encode(TEXTS)
    assert X.dtype == np.float32 and X.shape == (5, 3)
    v = {w: np.array(x) for w, x in VECS.items()}
    np.testing.assert_allclose(X[0], (v["the"] + v["film"] + v["good"]) / 3, rtol=1e-6)
    np.testing.assert_allclose(X[3], (v["the"] + v["film"]) / 2, rtol=1e-6)  # OOV skipped
    np.testing.assert_array_equal(X[4], 0)  # nothing known: zero vector, counted
    d = enc.describe()
    assert d["tokens"] == 14 and d["oov_tokens"] == 3 and d["oov_types"] == 2
    assert d["oov_share"] == pytest.approx(3 / 14)
    assert d["empty_texts"] == 1 and d["oov_examples"][0] == "zzz"


def test_sif_equals_direct_computation(folder):
    """Arora et al. 2017: weights a/(a+p(w)) from the training counts, weighted average
    over the known words, then the first singular vector of the fitted texts removed."""
    enc = load_encoder(f"w2v:{folder}:sif").fit(TEXTS[:3])
    a, total = 1e-3, sum(COUNTS.values())
    v = {w: np.array(x) * a / (a + COUNTS[w] / total) for w, x in VECS.items()}
    raw = np.array(
        [
            (v["the"] + v["film"] + v["good"]) / 3,
            (v["the"] + v["bad"] + v["movie"]) / 3,
            (v["good"] * 2 + v["film"]) / 3,
        ]
    )
    u = np.linalg.svd(raw)[2][0]
    expected = raw - np.outer(raw @ u, u)
    np.testing.assert_allclose(enc.encode(TEXTS[:3]), expected, atol=1e-6)
    # the removed direction is gone from every output
    np.testing.assert_allclose(enc.encode(TEXTS) @ u, 0, atol=1e-6)
    assert enc.describe()["frequencies"] == "training counts of the vectors"


def test_sif_state_roundtrip(folder, tmp_path):
    enc = load_encoder(f"w2v:{folder}:sif").fit(TEXTS)
    enc.save(tmp_path / "state")
    again = load_encoder(f"w2v:{folder}:sif").load(tmp_path / "state")
    np.testing.assert_array_equal(again.encode(TEXTS), enc.encode(TEXTS))


def test_glove_and_word2vec_text_files(tmp_path):
    glove = tmp_path / "glove.txt"
    glove.write_text("".join(f"{w} {' '.join(map(str, x))}\n" for w, x in VECS.items()))
    enc = load_encoder(f"glove:{glove}")
    np.testing.assert_allclose(enc.encode(["film"])[0], VECS["film"])
    w2v = tmp_path / "w2v.txt"
    w2v.write_text(f"{len(VECS)} 3\n" + glove.read_text())
    np.testing.assert_allclose(load_encoder(f"w2v:{w2v}").encode(["good bad"])[0], [0.5, 0, 0])
    with pytest.raises(DataError, match="word2vec header"):
        load_encoder(f"glove:{w2v}")


def test_fasttext_builds_oov_words_from_subwords(tmp_path):
    from reprlearn.words.train import train_word_vectors

    corpus = tmp_path / "c.txt"
    corpus.write_text("\n".join(["the films were good", "a film was bad", "good films"] * 30))
    out = tmp_path / "ft"
    train_word_vectors(
        str(corpus), out, method="fasttext", dim=8, min_count=1, epochs=1, progress=False
    )
    enc = load_encoder(f"fasttext:{out}")
    X = enc.encode(["filmy goodness"])
    assert np.abs(X).sum() > 0  # not the zero vector: built from n-grams
    d = enc.describe()
    assert d["oov_tokens"] == 2 and d["oov_handling"] == "built from character n-grams"
    assert d["empty_texts"] == 0


def test_a_folder_of_another_format_is_named(tmp_path):
    store = tmp_path / "store"
    (store / "data").mkdir(parents=True)
    (store / "manifest.json").write_text("{}")
    with pytest.raises(DataError, match="an embedding store"):
        load_encoder(f"w2v:{store}")
    st = tmp_path / "st"
    st.mkdir()
    (st / "modules.json").write_text("[]")
    with pytest.raises(DataError, match="sentence-transformers model.*st:"):
        load_encoder(f"w2v:{st}")
    with pytest.raises(ValueError, match="no such vectors"):
        load_encoder(f"w2v:{tmp_path / 'missing'}")
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"\x00\x01garbage")
    with pytest.raises(DataError, match="not readable as word2vec"):
        load_encoder(f"w2v:{bad}")
