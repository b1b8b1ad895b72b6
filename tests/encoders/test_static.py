"""static: model2vec static models, loaded from a folder (a tiny one built here) and
distilled offline from the bundled MiniLM (slow)."""

import numpy as np
import pytest

from reprlearn.encoders import load_encoder
from reprlearn.errors import DataError

WORDS = ["[PAD]", "[UNK]", "the", "river", "bank", "money", "loan", "water"]


@pytest.fixture
def tiny_static(tmp_path):
    """A random 8-token model2vec model saved with save_pretrained (as a hub folder)."""
    from model2vec import StaticModel
    from tokenizers import Tokenizer, models, pre_tokenizers

    tok = Tokenizer(models.WordLevel({w: i for i, w in enumerate(WORDS)}, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    vectors = np.random.default_rng(0).normal(size=(len(WORDS), 16)).astype(np.float32)
    model = StaticModel(vectors, tok, normalize=True)
    model.save_pretrained(str(tmp_path / "m2v"))
    return tmp_path / "m2v", model


def test_static_folder_matches_model2vec_encode(tiny_static):
    folder, model = tiny_static
    enc = load_encoder(f"static:{folder}")
    texts = ["the river bank", "bank loan money", "water"]
    X = enc.encode(texts)
    assert X.dtype == np.float32 and X.shape == (3, 16) and enc.dim == 16
    np.testing.assert_allclose(X, model.encode(texts), rtol=1e-5, atol=1e-6)
    assert enc.describe()["static"] is True


def test_static_vectors_ignore_context(tiny_static):
    from reprlearn.words.context import word_senses

    folder, _ = tiny_static
    r = word_senses(
        f"static:{folder}", "bank", ["the river bank", "bank loan", "money bank"], ["r", "f", "f"]
    )
    assert r["static"] is True and "same vector in every sentence" in r["note"]
    np.testing.assert_allclose(r["similarity"], 1.0, atol=1e-6)


def test_vectors_commands_read_a_static_folder(tiny_static):
    from reprlearn.words.vectors import open_vectors

    folder, model = tiny_static
    kv, info = open_vectors(str(folder))
    assert info["kind"] == "static" and kv.index_to_key == WORDS
    with pytest.raises(DataError, match="model2vec static model.*static:"):
        load_encoder(f"w2v:{folder}")


def test_folder_that_is_neither(tmp_path):
    (tmp_path / "x.txt").write_text("hi")
    with pytest.raises(ValueError, match="neither a model2vec folder"):
        load_encoder(f"static:{tmp_path}")


@pytest.mark.slow
def test_static_minilm_distils_offline_once(tmp_path, monkeypatch):
    """static:minilm distils the bundled MiniLM (about a minute on 2 cores), caches it."""
    monkeypatch.setenv("REPRLEARN_CACHE", str(tmp_path))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    enc = load_encoder("static:minilm")
    assert enc.dim == 256
    X = enc.encode(["a river bank", "a bank loan"])
    assert X.shape == (2, 256)
    cached = list((tmp_path / "static").iterdir())
    assert len(cached) == 1 and (cached[0] / "reprlearn_distill.json").is_file()
    assert load_encoder("static:minilm").source == str(cached[0])  # no second distillation


def test_static_minilm_cache_logic(tmp_path, monkeypatch, tiny_static):
    """static:minilm distils once into the cache and reuses it (distillation stubbed:
    the real one is the slow test above)."""
    import json
    import shutil

    import reprlearn.words.distill as distill

    folder, _ = tiny_static
    calls = []

    def fake_distill(model, out, **kw):
        calls.append(model)
        shutil.copytree(folder, out, dirs_exist_ok=True)
        (out / "reprlearn_distill.json").write_text(json.dumps({"model": model}))

    monkeypatch.setenv("REPRLEARN_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(distill, "distill_static", fake_distill)
    first = load_encoder("static:minilm")
    second = load_encoder("static:minilm")
    assert calls == ["minilm"] and first.source == second.source
    assert first.source.startswith(str(tmp_path / "cache" / "static"))
    assert first.encode(["the bank"]).shape == (1, 16)
