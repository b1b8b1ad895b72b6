"""Stores for the explorer tests: 40 short reviews in two classes, embedded twice."""

from __future__ import annotations

from pathlib import Path

import pytest

import reprlearn

POS = [f"a warm funny film about family number {i}" for i in range(10)] + [
    f"brilliant acting and a moving story, part {i}" for i in range(10)
]
NEG = [f"a dull and lifeless thriller, episode {i}" for i in range(10)] + [
    f"boring plot and wooden acting in sequel {i}" for i in range(10)
]


@pytest.fixture(scope="session")
def reviews(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("reviews")
    (folder / "r.pos").write_text("\n".join(POS) + "\n")
    (folder / "r.neg").write_text("\n".join(NEG) + "\n")
    return folder


@pytest.fixture(scope="session")
def two_stores(tmp_path_factory, reviews) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("stores")
    ds = reprlearn.load_dataset(str(reviews))
    a = reprlearn.embed(ds, "tfidf", out=root / "rev-tfidf", progress=False)
    b = reprlearn.embed(ds, "minilm", out=root / "rev-minilm", progress=False, normalize=True)
    return a.path, b.path
