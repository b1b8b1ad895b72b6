import pytest

from reprlearn.errors import DataError
from reprlearn.words.evaluate import evaluate_analogies, evaluate_pairs, evaluate_word_vectors


def test_user_analogies_semantic_syntactic_and_coverage(royal, tmp_path):
    f = tmp_path / "q.txt"
    f.write_text(
        ": royalty\nking man queen woman\nking man prince woman\nking man zebra woman\n"
        ": gram-gender\nman king woman queen\n"
    )
    r = evaluate_analogies(royal, str(f))
    assert r["questions"] == 4
    assert r["answered"] == 3  # zebra is not in the vocabulary
    assert r["coverage"] == pytest.approx(0.75)
    assert r["semantic"] == pytest.approx(0.5)  # queen right, prince wrong
    assert r["syntactic"] == pytest.approx(1.0)  # man - king + queen = woman


def test_user_pairs_spearman_and_oov_share(royal, tmp_path):
    f = tmp_path / "pairs.tsv"
    f.write_text("# comment\nking\tprince\t9\nking\tkingdom\t7\nking\tapple\t1\nking\tzebra\t5\n")
    r = evaluate_pairs(royal, str(f))
    assert r["spearman"] == pytest.approx(1.0)
    assert r["oov_share"] == pytest.approx(0.25)
    bad = tmp_path / "bad.tsv"
    bad.write_text("king prince 9\n")
    with pytest.raises(DataError, match="line 1"):
        evaluate_pairs(royal, str(bad))


def test_bundled_sets_come_from_gensim(royal):
    r = evaluate_word_vectors(royal)
    assert r["analogies"]["questions"] == 19544  # Mikolov's questions-words.txt
    assert r["analogies"]["file"].endswith("questions-words.txt")
    assert set(r["pairs"]) == {"wordsim353", "simlex999"}
    assert r["pairs"]["wordsim353"]["pairs"] == 353 and r["pairs"]["simlex999"]["pairs"] == 999
    assert r["pairs"]["simlex999"]["oov_share"] > 0.9  # 7 words know almost nothing


def test_missing_user_file(royal):
    with pytest.raises(DataError, match="no such file"):
        evaluate_word_vectors(royal, analogies="/nonexistent/q.txt")
