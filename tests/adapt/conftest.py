"""Fixtures for the adapt tests: a tiny SSL checkpoint on digits, a tiny sentence encoder
and a small labelled text CSV. Torch runs on one thread (the test machine's 2 cores are
shared; two spinning OpenMP threads there run ~20x slower than one)."""

from __future__ import annotations

import csv
import warnings
from collections import Counter

import pytest
import torch

TOPICS = {
    "sport": ["the team won the match", "a late goal decided the game", "the coach praised the players",
              "fans cheered the striker", "the keeper saved a penalty", "they lost the final"],
    "food": ["the soup was hot and salty", "fresh bread from the oven", "a sweet cake with cream",
             "she cooked rice and beans", "the pasta needed more salt", "grilled fish with lemon"],
    "tech": ["the laptop battery died", "a new phone with a fast chip", "the update fixed the bug",
             "he wrote code all night", "the server crashed again", "a faster network card"],
}  # fmt: skip


@pytest.fixture(autouse=True)
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore", ".*does not have many workers.*")
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def tiny_ckpt(tmp_path_factory):
    """A SimCLR run folder (``mlp`` backbone: 2 blocks with BatchNorm) pretrained 1 epoch
    on 300 digits: loadable as ``ckpt:FOLDER``."""
    from reprlearn.training.pretrain import pretrain

    torch.set_num_threads(1)
    out = tmp_path_factory.mktemp("ssl") / "run"
    pretrain("digits", method="simclr", backbone="mlp", out=out, epochs=1, batch_size=128,
             precision="fp32", progress=False, max_items=300,
             method_options={"proj_hidden": 32, "proj_out": 16})  # fmt: skip
    return out


def text_rows(n_per_topic: int = 20) -> list[dict[str, str]]:
    """Labelled sentences: each topic's phrases with a counter suffix, cycled."""
    rows = []
    for topic, phrases in TOPICS.items():
        rows += [{"text": f"{phrases[i % len(phrases)]} {i}", "category": topic}
                 for i in range(n_per_topic)]  # fmt: skip
    return rows


def write_csv(path, rows) -> str:
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]), quoting=csv.QUOTE_ALL)
        w.writeheader()
        w.writerows(rows)
    return str(path)


@pytest.fixture(scope="session")
def text_csv(tmp_path_factory):
    return write_csv(tmp_path_factory.mktemp("text") / "train.csv", text_rows())


@pytest.fixture(scope="session")
def tiny_st(tmp_path_factory, save_tiny_st):
    """A tiny random sentence-transformers model whose vocabulary covers :data:`TOPICS`."""
    words = Counter(w for ps in TOPICS.values() for p in ps for w in p.split())
    return save_tiny_st(tmp_path_factory.mktemp("st"), [*map(str, range(10)), *words])
