import numpy as np
import pytest

from reprlearn.errors import DataError
from reprlearn.words.analogy import analogy, analogy_scores, neighbors


@pytest.mark.parametrize("method", ["3cosadd", "3cosmul"])
def test_king_minus_man_plus_woman_is_queen(royal, method):
    r = analogy(royal, "king", "man", "woman", expected="queen", method=method)
    assert r["answers"][0][0] == "queen"
    assert r["rank"] == 1
    # the query words are never answers
    assert not {"king", "man", "woman"} & {w for w, _ in r["answers"]}


def test_3cosadd_equals_the_formula_and_gensim(royal):
    W = royal.get_normed_vectors()
    idx = royal.key_to_index
    scores = analogy_scores(royal, "king", "man", "woman", "3cosadd")
    direct = W @ W[idx["king"]] - W @ W[idx["man"]] + W @ W[idx["woman"]]
    for w in ("queen", "prince", "apple", "kingdom"):
        assert scores[idx[w]] == pytest.approx(direct[idx[w]], abs=1e-6)
    ours = [w for w, _ in analogy(royal, "king", "man", "woman", k=4)["answers"]]
    theirs = [
        w for w, _ in royal.most_similar(positive=["king", "woman"], negative=["man"], topn=4)
    ]
    assert ours == theirs


def test_3cosmul_equals_levy_goldberg(royal):
    W = royal.get_normed_vectors()
    i = royal.key_to_index

    def c(x, y):
        return (W[i[x]] @ W[i[y]] + 1) / 2

    scores = analogy_scores(royal, "king", "man", "woman", "3cosmul")
    for w in ("queen", "prince", "apple"):
        expected = c(w, "king") * c(w, "woman") / (c(w, "man") + 1e-3)
        assert scores[i[w]] == pytest.approx(expected, rel=1e-5)
    ours = [w for w, _ in analogy(royal, "king", "man", "woman", k=3, method="3cosmul")["answers"]]
    assert ours[0] == royal.most_similar_cosmul(positive=["king", "woman"], negative=["man"])[0][0]


def test_rank_of_a_worse_answer(royal):
    r = analogy(royal, "king", "man", "woman", expected="apple")
    ranked = [w for w, _ in r["answers"]]
    assert r["rank"] == ranked.index("apple") + 1 > 1
    assert analogy(royal, "king", "man", "woman", expected="zebra")["rank"] is None


def test_oov_query_word_is_named_with_spellings(royal):
    with pytest.raises(DataError, match=r"'kinq'.*nearest spellings: king"):
        analogy(royal, "kinq", "man", "woman")
    with pytest.raises(DataError, match="3cosadd or 3cosmul"):
        analogy_scores(royal, "king", "man", "woman", "cosine")


def test_neighbors_sorted_by_cosine(royal):
    r = neighbors(royal, "king", k=3)
    cos = [s for _, s in r["neighbors"]]
    assert cos == sorted(cos, reverse=True) and r["neighbors"][0][0] in ("prince", "kingdom")
    assert np.isclose(cos[0], royal.similarity("king", r["neighbors"][0][0]), atol=1e-4)
