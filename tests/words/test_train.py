"""words train: gensim word2vec/fastText saved without pickle and read back exactly."""

import json

import numpy as np
import pytest

from reprlearn.errors import DataError
from reprlearn.outdir import OutputError
from reprlearn.words.train import train_word_vectors
from reprlearn.words.vectors import load_vectors

SENTENCES = [
    "the cat sat on the mat",
    "the dog sat on the rug",
    "a cat and a dog played",
    "the film was good and the movie was good",
] * 25


@pytest.fixture
def corpus(tmp_path):
    f = tmp_path / "corpus.txt"
    f.write_text("\n".join(SENTENCES) + "\n")
    return f


@pytest.mark.parametrize("method", ["word2vec", "fasttext"])
def test_train_saves_vectors_and_manifest(corpus, tmp_path, method):
    out = tmp_path / method
    m = train_word_vectors(
        str(corpus), out, method=method, dim=12, min_count=2, epochs=2, progress=False
    )
    assert m["corpus"]["sentences"] == 100 and m["vocab_size"] == m["corpus"]["types"] == 14
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["method"] == method and manifest["dim"] == 12
    assert manifest["options"]["min_count"] == 2
    kv = load_vectors(out)
    assert kv["cat"].shape == (12,)
    assert int(kv.get_vecattr("the", "count")) == 150
    assert hasattr(kv, "vectors_ngrams") == (method == "fasttext")


def test_fasttext_roundtrip_keeps_subword_vectors(corpus, tmp_path):
    """The saved folder rebuilds the same OOV vectors gensim's model gives."""
    from gensim.models import FastText

    from reprlearn.words.tokenize import tokenize

    out = tmp_path / "ft"
    train_word_vectors(
        str(corpus), out, method="fasttext", dim=8, min_count=1, epochs=1, progress=False
    )
    kv = load_vectors(out)
    model = FastText(vector_size=8, min_count=1, seed=0, workers=2)
    model.build_vocab([tokenize(s) for s in SENTENCES])
    model.wv.vectors_ngrams = kv.vectors_ngrams.copy()
    model.wv.vectors_vocab = kv.vectors_vocab.copy()
    model.wv.adjust_vectors()
    np.testing.assert_allclose(kv["catty"], model.wv["catty"], rtol=1e-5)
    np.testing.assert_allclose(kv["film"], model.wv["film"], rtol=1e-5)


def test_senteval_root_reads_every_subfolder(tmp_path):
    root = tmp_path / "senteval"
    for name, lines in {"A": ["good film", "bad film"], "B": ["a good day"]}.items():
        (root / name).mkdir(parents=True)
        (root / name / f"x.{name.lower()}").write_text("\n".join(lines) + "\n")
    m = train_word_vectors(str(root), tmp_path / "v", dim=4, min_count=1, epochs=1, progress=False)
    assert m["corpus"]["sentences"] == 3 and len(m["corpus"]["sources"]) == 2


def test_bad_input(tmp_path, corpus):
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n!!! ...\n")
    with pytest.raises(DataError, match="empty"):
        train_word_vectors(str(empty), tmp_path / "v1", progress=False)
    with pytest.raises(DataError, match="lower --min-count"):
        train_word_vectors(str(corpus), tmp_path / "v2", min_count=10_000, progress=False)
    with pytest.raises(DataError, match="word2vec, fasttext"):
        train_word_vectors(str(corpus), tmp_path / "v3", method="glove", progress=False)
    train_word_vectors(str(corpus), tmp_path / "v4", min_count=1, epochs=1, progress=False)
    with pytest.raises(OutputError, match="--overwrite"):
        train_word_vectors(str(corpus), tmp_path / "v4", min_count=1, epochs=1, progress=False)
    train_word_vectors(
        str(corpus), tmp_path / "v4", min_count=1, epochs=1, overwrite=True, progress=False
    )
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("mine")
    with pytest.raises(OutputError, match="did not write"):
        train_word_vectors(str(corpus), tmp_path / "mine", min_count=1, progress=False)


@pytest.mark.shared_data
def test_train_on_real_mr(shared_data, tmp_path):
    m = train_word_vectors(
        str(shared_data / "senteval" / "MR"), tmp_path / "mr", dim=20, epochs=1, progress=False
    )
    assert m["corpus"]["sentences"] == 10662 and m["vocab_size"] > 3000
    assert "film" in load_vectors(tmp_path / "mr").key_to_index
