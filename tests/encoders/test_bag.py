"""bag: the learned lookup layer (nn.EmbeddingBag + linear, fastText-style)."""

import numpy as np
import pytest
import torch
from torch import nn

from reprlearn.encoders import load_encoder
from reprlearn.errors import DataError
from reprlearn.words.bag import memory_facts, to_bags, train_bag_classifier


def test_embedding_lookup_equals_onehot_times_weight():
    torch.manual_seed(0)
    emb = nn.Embedding(50, 8)
    ids = torch.tensor([3, 0, 49, 3])
    onehot = nn.functional.one_hot(ids, 50).float()  # (4, V)
    torch.testing.assert_close(emb(ids), onehot @ emb.weight)


def test_embedding_bag_mean_equals_bag_of_words_times_weight():
    """The mean of a text's rows = its bag-of-words counts (V,) @ W / number of words."""
    torch.manual_seed(0)
    bag = nn.EmbeddingBag(10, 4, mode="mean")
    index = {w: i for i, w in enumerate(["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"])}
    ids, offsets, known, oov = to_bags(["a b b", "j zzz", "zzz"], index)
    assert (known, oov) == (4, 2)
    out = bag(ids, offsets)
    counts = torch.zeros(3, 10)
    counts[0, 0], counts[0, 1], counts[1, 9] = 1, 2, 1
    expected = counts @ bag.weight / counts.sum(1, keepdim=True).clamp(min=1)
    torch.testing.assert_close(out, expected)
    assert torch.all(out[2] == 0)  # no known word: zero vector


def test_train_and_encode_planted_classes(tmp_path):
    rng = np.random.default_rng(0)
    pos, neg = ["great", "lovely", "superb", "fine"], ["awful", "dull", "boring", "bad"]
    filler = ["the", "film", "was", "a", "movie", "plot"]
    texts, labels = [], []
    for i in range(300):
        cue = pos if i % 2 else neg
        texts.append(" ".join(list(rng.choice(filler, 4)) + [str(rng.choice(cue))]))
        labels.append(i % 2)
    m = train_bag_classifier(
        texts, labels, ["neg", "pos"], tmp_path / "bag", dim=8, epochs=5, lr=0.05, progress=False
    )
    assert m["heldout_accuracy"] > 0.95
    assert m["memory"] == memory_facts(m["vocab_size"], 8)
    assert m["memory"]["onehot_float32_bytes_per_item"] == 4 * m["vocab_size"]
    enc = load_encoder(f"bag:{tmp_path / 'bag'}")
    X = enc.encode(["great film", "awful film", "zzz"])
    assert X.shape == (3, 8) and X.dtype == np.float32
    d = enc.describe()
    assert d["memory"]["dense_float32_bytes_per_item"] == 32 and d["oov_share"] == pytest.approx(
        0.2
    )


def test_bad_input(tmp_path):
    with pytest.raises(DataError, match="2 or more classes"):
        train_bag_classifier(["a b", "c d"], [0, 0], ["x"], tmp_path / "b", progress=False)
    (tmp_path / "x").mkdir()
    with pytest.raises(DataError, match="not a bag folder"):
        load_encoder(f"bag:{tmp_path / 'x'}")
