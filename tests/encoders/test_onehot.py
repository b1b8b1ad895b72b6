"""onehot: the binary bag of words, tokenised like the word-vector encoders."""

import numpy as np
import pytest

from reprlearn.encoders import load_encoder
from reprlearn.words.tokenize import tokenize

TEXTS = ["The film's good, the FILM is good!", "a bad movie", "isn't it bad?"]


def test_binary_bag_of_words_with_the_shared_tokeniser():
    enc = load_encoder("onehot").fit(TEXTS)
    assert enc.vocabulary_ == sorted({t for x in TEXTS for t in tokenize(x)})
    X = enc.encode(["good good film's zebra"])
    assert X.dtype == np.float32 and set(np.unique(X)) <= {0.0, 1.0}
    on = {enc.vocabulary_[i] for i in np.flatnonzero(X[0])}
    assert on == {"good", "film's"}  # repeated word counts once; unknown word dropped
    assert enc.sparse(["a bad movie"]).nnz == 3


def test_vocabulary_cap_and_memory_in_describe():
    enc = load_encoder("onehot:3").fit(TEXTS * 2)
    assert enc.dim == 3
    enc.encode(TEXTS)
    d = enc.describe()
    assert d["corpus_types"] == len({t for x in TEXTS for t in tokenize(x)})
    assert d["memory_bytes_per_item"]["dense_float32"] == 12
    with pytest.raises(ValueError, match="whole number"):
        load_encoder("onehot:lots")


def test_state_roundtrip(tmp_path):
    enc = load_encoder("onehot").fit(TEXTS)
    enc.save(tmp_path)
    again = load_encoder("onehot").load(tmp_path)
    np.testing.assert_array_equal(again.encode(TEXTS), enc.encode(TEXTS))


def test_embed_store(tmp_path):
    import datasets

    import reprlearn

    ds = datasets.Dataset.from_dict({"text": TEXTS * 4})
    store = reprlearn.embed(ds, "onehot", out=tmp_path / "s", progress=False)
    X, _ = store.to_numpy()
    assert X.shape == (12, len(reprlearn.load_encoder("onehot").fit(TEXTS).vocabulary_))
    assert store.manifest["encoder"]["memory_bytes_per_item"]["dense_float32"] == 4 * X.shape[1]
