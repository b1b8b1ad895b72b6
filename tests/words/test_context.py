"""words context: a word's vectors across sentences, clusters into senses, purity and
WiC-style accuracy; static encoders give the same vector everywhere."""

import numpy as np
import pytest

from reprlearn.errors import DataError
from reprlearn.words.context import (
    builtin_examples,
    find_word,
    purity,
    same_sense_accuracy,
    token_vectors,
    word_senses,
)


@pytest.fixture(scope="module")
def minilm():
    from reprlearn.encoders import load_encoder

    return load_encoder("minilm")


def test_purity_and_wic_accuracy_on_planted_similarities():
    senses = np.array(["a"] * 4 + ["b"] * 4)
    assert purity(np.array([0, 0, 0, 0, 1, 1, 1, 1]), senses) == 1.0
    assert purity(np.array([0, 0, 0, 0, 0, 0, 0, 0]), senses) == 0.5
    same = senses[:, None] == senses[None, :]
    sim = np.where(same, 0.9, 0.2)
    r = same_sense_accuracy(sim, senses)
    assert r["accuracy"] == 1.0 and 0.2 < r["threshold"] < 0.9
    assert r["fit_pairs"] + r["test_pairs"] == 28


def test_minilm_separates_two_planted_senses(minilm):
    """Sentences built from two disjoint contexts of the same word: contextual vectors
    cluster by context."""
    river = ["fish", "ducks", "reeds", "boats", "otters", "frogs"]
    money = ["loans", "savings", "cheques", "mortgages", "deposits", "salaries"]
    texts = [f"The {w} were near the bank of the river." for w in river]
    texts += [f"The bank handles {w} and interest rates." for w in money]
    senses = ["river"] * 6 + ["money"] * 6
    r = word_senses(minilm, "bank", texts, senses)
    assert r["static"] is False
    assert r["purity"] == 1.0
    assert r["same_sense_accuracy"] > r["majority_baseline"]
    sim = np.array(r["similarity"])
    same = np.equal.outer(senses, senses)
    off = ~np.eye(12, dtype=bool)
    assert sim[same & off].mean() > sim[~same].mean() + 0.05


def test_builtin_bank_examples(minilm):
    texts, senses = builtin_examples("bank")["bank"]
    assert len(texts) == 10 and set(senses) == {"river", "finance"}
    r = word_senses(minilm, "bank")
    assert r["n"] == 10 and r["purity"] >= 0.9
    assert set(builtin_examples()) >= {"bank", "bat", "spring", "plant", "bass"}


def test_word_pieces_are_averaged(minilm):
    """A word split into several word-pieces gets the mean of their last-layer outputs."""
    import torch

    text = "They walked along the riverbankside path."
    X = token_vectors(minilm, "riverbankside", [text])
    tok, model = minilm.model.tokenizer, minilm.model[0].auto_model
    enc = tok([text], return_tensors="pt")
    pieces = tok.convert_ids_to_tokens(enc["input_ids"][0])
    idx = [i for i, p in enumerate(pieces) if p in ("river", "##bank", "##side")]
    assert len(idx) >= 2
    with torch.inference_mode():
        hidden = model(**enc).last_hidden_state[0]
    np.testing.assert_allclose(X[0], hidden[idx].mean(0).numpy(), atol=1e-4)


def test_bad_input(minilm):
    from reprlearn.encoders import load_encoder

    assert find_word("bank", "Banks and the Bank.") == (14, 18)
    with pytest.raises(DataError, match="row 2"):
        token_vectors(minilm, "bank", ["the bank", "no such word", "bank"])
    tfidf = load_encoder("tfidf")
    with pytest.raises(DataError, match="no token outputs"):
        word_senses(tfidf, "bank", ["a bank", "the bank", "my bank"])
    with pytest.raises(DataError, match="built-in"):
        word_senses(minilm, "zebra")
    with pytest.raises(DataError, match="at least 3"):
        word_senses(minilm, "bank", ["a bank", "the bank"])
