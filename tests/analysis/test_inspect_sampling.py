"""``inspect`` on a 50-class store (TREC fine labels, LSA): classes and items drawn at
random from the seed (not the first classes alphabetically), chosen classes, the user's
own query texts embedded with the store's encoder, and ``map.csv`` (issue 15 item 7)."""

from __future__ import annotations

import csv

import pytest

from reprlearn.analysis.inspect import inspect, read_queries
from reprlearn.errors import DataError


@pytest.fixture(scope="module")
def trec_store(tmp_path_factory, shared_data):
    """LSA-32 store of TREC's 5,452 training questions with the 50 fine labels."""
    from reprlearn.data import load_dataset
    from reprlearn.embed import embed

    trec = str(shared_data / "senteval" / "TREC")
    ds = load_dataset(trec, split="train", fine_labels=True)
    return embed(ds, "lsa:32", tmp_path_factory.mktemp("trec") / "store", progress=False)


def _rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.shared_data
def test_classes_are_drawn_from_the_seed(trec_store, tmp_path):
    first = inspect(trec_store, tmp_path / "s0", sample=20, seed=0)
    other = inspect(trec_store, tmp_path / "s1", sample=20, seed=1)
    alphabetical = sorted(trec_store.label_names)[:10]
    assert len(first.classes) == 10 and first.classes != alphabetical  # before: the first 10
    assert first.classes != other.classes
    assert len(first.sample_ids) == 20 and len(first.neighbors) == 20 * 5
    assert len(first.table().rows) == 20  # every sampled item, not 6
    rows = _rows(tmp_path / "s0" / "map.csv")
    assert list(rows[0]) == ["id", "label", "x", "y"] and len(rows) == len(trec_store)
    assert {r["label"] for r in rows} == set(trec_store.label_names)


@pytest.mark.shared_data
def test_chosen_classes_and_own_queries(trec_store, tmp_path):
    queries = tmp_path / "queries.txt"
    queries.write_text(
        "What year did the Berlin wall fall ?\n\nWhat city is the capital of Peru ?\n"
    )
    result = inspect(
        trec_store,
        tmp_path / "out",
        sample=6,
        classes=["NUM:date", "LOC:city"],
        queries=read_queries([str(queries), "How many people live in Tokyo ?"]),
    )
    assert result.classes == ["LOC:city", "NUM:date"]
    assert len(result.query_neighbors) == 3 * 5
    rows = _rows(tmp_path / "out" / "queries.csv")
    year = [r["neighbor_label"] for r in rows if r["query"].startswith("What year")]
    assert "NUM:date" in year  # the store's own LSA space puts it near date questions
    assert "How many people live in Tokyo ?" in {r["query"] for r in rows}


@pytest.mark.shared_data
def test_unknown_class_names_the_classes(trec_store, tmp_path):
    with pytest.raises(DataError, match="NUM:date"):
        inspect(trec_store, tmp_path / "o", classes=["NUM:dates"])


def test_queries_need_a_rebuildable_text_encoder(digits_store, tmp_path):
    # the digits test store records no encoder state: a clear error, not a traceback
    with pytest.raises(DataError, match="--queries"):
        inspect(digits_store, tmp_path / "o", queries=["a seven"])
    with pytest.raises(DataError, match="no query text"):
        read_queries(["  "])


def test_text_queries_on_an_open_clip_image_store(tmp_path):
    # CLIP embeds texts and images in one space: queries go through the text tower
    import json

    import open_clip
    import torch
    from safetensors.torch import save_file

    from reprlearn.data import load_dataset
    from reprlearn.embed import embed

    cfg = {
        "embed_dim": 16,
        "vision_cfg": {"image_size": 32, "layers": 1, "width": 32, "patch_size": 8,
                       "head_width": 16},
        "text_cfg": {"context_length": 32, "vocab_size": 49408, "width": 32, "heads": 2,
                     "layers": 1},
    }  # fmt: skip
    folder = tmp_path / "tiny-clip"
    folder.mkdir()
    torch.manual_seed(0)
    model = open_clip.CLIP(**cfg)
    config = {"model_cfg": cfg, "preprocess_cfg": {"mean": [0.5] * 3, "std": [0.5] * 3}}
    (folder / "open_clip_config.json").write_text(json.dumps(config))
    save_file({k: v.contiguous() for k, v in model.state_dict().items()},
              str(folder / "open_clip_model.safetensors"))  # fmt: skip
    digits = load_dataset("digits").select(range(40))
    store = embed(digits, f"open_clip:{folder}", tmp_path / "store", progress=False)
    result = inspect(store, tmp_path / "out", sample=6, queries=["a handwritten seven"])
    assert len(result.query_neighbors) == 5
    assert all(-1 <= r["cosine"] <= 1 for r in result.query_neighbors)
