"""search: text queries through the store's own (fitted) encoder, id queries, errors, CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

import reprlearn
from reprlearn.cli import _register_commands, app
from reprlearn.search.query import QueryError, search

runner = CliRunner()
_register_commands()


def test_text_query_finds_the_matching_review(text_store):
    result = search(text_store, "a warm funny film about family", k=3)
    assert result.method == "exact" and "no index" in result.notes[0]
    top = result.results[0]
    assert top["text"] == "a warm funny film about family" and top["label"] == "pos"
    assert top["score"] == pytest.approx(1.0, abs=1e-4)
    assert [r["rank"] for r in result.results] == [1, 2, 3]


def test_store_search_method_and_public_api(text_store):
    store = reprlearn.EmbeddingStore.open(text_store)
    via_method = store.search("boring plot and wooden acting", 2)
    via_api = reprlearn.search(text_store, "boring plot and wooden acting", 2)
    assert via_method.results == via_api.results
    assert via_method.results[0]["label"] == "neg"


def test_several_ids_search_their_mean_and_leave_them_out(digits_store):
    result = search(digits_store, ["id:0", "id:10"], k=5, exact=True)
    ids = [r["id"] for r in result.results]
    assert 0 not in ids and 10 not in ids
    assert {r["label"] for r in result.results} == {"0"}  # digits 0 and 10 are both zeros
    assert result.to_dict().keys() == {"query", "results"}


def test_errors_name_the_fix(digits_store, text_store, tmp_path):
    with pytest.raises(QueryError, match="is not an image file"):
        search(digits_store, "a text for an image store")
    with pytest.raises(QueryError, match="id 5000 is not in"):
        search(digits_store, "id:5000")
    from PIL import Image

    Image.new("RGB", (8, 8)).save(tmp_path / "q.png")
    with pytest.raises(QueryError, match="is an image but"):
        search(text_store, str(tmp_path / "q.png"))
    (text_store / "encoder" / "state.json").rename(tmp_path / "state.json")
    try:
        with pytest.raises(QueryError, match="no saved state of its fitted encoder"):
            search(text_store, "some text")
    finally:
        (tmp_path / "state.json").rename(text_store / "encoder" / "state.json")


def test_unrebuildable_encoder_is_a_clear_error(tmp_path, text_store):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(text_store, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["encoder_name"] = "st:/no/such/local/model"
    (copy / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(QueryError, match="cannot be rebuilt here"):
        search(copy, "a text")
    assert search(copy, "id:1", k=1).results  # id queries still work


def test_cli_search_json_and_index(digits_store, text_store):
    res = runner.invoke(app, ["index", str(digits_store), "--kind", "flat", "--overwrite"])
    assert res.exit_code == 0, res.output
    assert "bytes/vector" in res.output and "recall@10 1.000" in res.output
    res = runner.invoke(app, ["search", str(text_store), "tedious, long and pointless", "--json"])
    assert res.exit_code == 0, res.output
    payload = json.loads(res.stdout)
    assert payload["query"] == "tedious, long and pointless"
    first = payload["results"][0]
    assert list(first) == ["rank", "id", "score", "label", "text"]
    assert first["rank"] == 1 and first["label"] == "neg"
    best = [r["text"] for r in payload["results"] if r["score"] > 0.999]
    assert "tedious, long and pointless" in best
    res = runner.invoke(app, ["search", str(digits_store), "id:3", "--k", "3"])
    assert res.exit_code == 0 and "index (flat)" in res.output


def test_image_file_query_is_embedded_with_the_store_encoder(tmp_path):
    from PIL import Image

    rng = np.random.default_rng(0)
    for cls in ("red", "blue"):
        (tmp_path / "imgs" / cls).mkdir(parents=True)
        for i in range(6):
            base = np.array([200, 30, 30] if cls == "red" else [30, 30, 200], dtype=float)
            pixels = np.clip(base + rng.normal(0, 25, size=(16, 16, 3)), 0, 255).astype(np.uint8)
            Image.fromarray(pixels).save(tmp_path / "imgs" / cls / f"{i}.png")
    store = reprlearn.embed(
        reprlearn.load_dataset(str(tmp_path / "imgs")), "pca:4", out=tmp_path / "s", progress=False
    )
    query = tmp_path / "imgs" / "blue" / "3.png"
    result = search(store.path, str(query), k=3)
    top = result.results[0]
    assert top["image"].endswith("3.png") and top["label"] == "blue"
    assert top["score"] == pytest.approx(1.0, abs=1e-4)
    assert {r["label"] for r in result.results} == {"blue"}
    with pytest.raises(QueryError, match="no such image file"):
        search(store.path, str(tmp_path / "missing.jpg"))


def test_print_gives_a_plain_table_of_the_hits(text_store):
    text = str(search(text_store, "a warm funny film about family", k=2))
    assert "a warm funny film about family" in text and "rank" in text and "pos" in text
    assert "SearchResult(" not in text
