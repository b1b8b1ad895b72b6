"""Small real stores for the search tests: digits (images, pixels) and short review
texts in two classes (tfidf, a fitted encoder whose state the store keeps)."""

from __future__ import annotations

from pathlib import Path

import pytest

import reprlearn

POS = [
    "a warm funny film about family",
    "a touching and funny story of a family",
    "warm performances and a lovely script",
    "the best comedy of the year, warm and wise",
    "funny, sweet and full of heart",
    "a joyful film the whole family will love",
    "brilliant acting and a moving story",
    "a delight from start to finish",
]
NEG = [
    "a dull and lifeless thriller",
    "boring plot and wooden acting",
    "the script is a mess and the jokes fall flat",
    "tedious, long and pointless",
    "a cold, joyless film with nothing to say",
    "the worst sequel in years",
    "flat characters and a predictable ending",
    "an ugly, noisy and empty action movie",
]


@pytest.fixture(scope="session")
def digits_store(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("stores") / "digits-pixels"
    reprlearn.embed(reprlearn.load_dataset("digits"), "pixels", out=out, progress=False)
    return out


@pytest.fixture(scope="session")
def reviews_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("reviews")
    (folder / "reviews.pos").write_text("\n".join(POS) + "\n")
    (folder / "reviews.neg").write_text("\n".join(NEG) + "\n")
    return folder


@pytest.fixture(scope="session")
def text_store(tmp_path_factory, reviews_dir) -> Path:
    out = tmp_path_factory.mktemp("stores") / "reviews-tfidf"
    ds = reprlearn.load_dataset(str(reviews_dir))
    reprlearn.embed(ds, "tfidf", out=out, progress=False)
    return out


@pytest.fixture(autouse=True, scope="session")
def _one_faiss_thread():
    """One OpenMP thread: FAISS's spinning threads crawl on a busy 2-core CI machine."""
    faiss = pytest.importorskip("faiss", reason="pip install reprlearn[search]")
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    yield
    faiss.omp_set_num_threads(before)
