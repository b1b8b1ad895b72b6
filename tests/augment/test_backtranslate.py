"""Back-translation through the real code path with tiny random Marian models built here
(a sentencepiece vocabulary trained in the test, MarianConfig + MarianMTModel), and the
clear error for hub ids offline."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
import torch

from reprlearn.augment import backtranslate as bt
from reprlearn.augment.text import augment_text
from reprlearn.errors import ReprlearnError

CORPUS = [
    "a charming and funny film about a family",
    "the movie is bad and boring",
    "ein charmanter und lustiger film",
    "der film ist schlecht und langweilig",
]


def build_tiny_marian(folder: Path, seed: int) -> Path:
    """A random MarianMT model (d_model 16, 1 layer) with a 40-piece sentencepiece
    vocabulary, saved with save_pretrained like a hub model."""
    import sentencepiece as spm
    from transformers import MarianConfig, MarianMTModel, MarianTokenizer

    folder.mkdir(parents=True)
    buf = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(CORPUS * 20), model_writer=buf, vocab_size=40,
        model_type="unigram", character_coverage=1.0, hard_vocab_limit=False, minloglevel=2,
    )  # fmt: skip
    for name in ("source.spm", "target.spm"):
        (folder / name).write_bytes(buf.getvalue())
    sp = spm.SentencePieceProcessor(model_proto=buf.getvalue())
    vocab = {sp.id_to_piece(i): i for i in range(sp.get_piece_size())}
    for special in ("</s>", "<unk>", "<pad>"):
        vocab.setdefault(special, len(vocab))
    (folder / "vocab.json").write_text(json.dumps(vocab))
    tok = MarianTokenizer(str(folder / "source.spm"), str(folder / "target.spm"),
                          str(folder / "vocab.json"))  # fmt: skip
    config = MarianConfig(
        vocab_size=len(vocab), d_model=16, encoder_layers=1, decoder_layers=1,
        encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=32,
        decoder_ffn_dim=32, max_position_embeddings=12, pad_token_id=vocab["<pad>"],
        eos_token_id=vocab["</s>"], decoder_start_token_id=vocab["<pad>"],
        forced_eos_token_id=vocab["</s>"],
    )  # fmt: skip
    torch.manual_seed(seed)
    MarianMTModel(config).save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def tiny_via(tmp_path_factory) -> str:
    root = tmp_path_factory.mktemp("marian")
    import shutil

    en_de = build_tiny_marian(root / "opus-mt-en-de", seed=0)
    de_en = shutil.copytree(en_de, root / "opus-mt-de-en")  # a second folder, loaded apart
    return f"{en_de},{de_en}"


def test_back_translation_through_two_models_batched_labels_kept(tiny_via):
    texts = ["a charming film", "", "the movie is bad and boring", "a funny family film"]
    result = augment_text(
        texts, method="backtranslate", via=tiny_via, n=2, batch_size=2, seed=0
    )  # fmt: skip  (precision auto: bf16 on AMX/AVX512-BF16 CPUs)
    c = result.counts
    assert c["texts"] == 4 and c["empty"] == 1 and c["via"] == tiny_via.split(",")
    assert c["precision"] in ("bf16", "fp32") and c["new"] + c["unchanged"] == 3 * 2
    t = result.table
    new = t[t["method"] == "backtranslate"]
    assert len(new) == c["new"] >= 1 and set(new["source_id"]) <= {0, 2, 3}
    assert all(isinstance(x, str) and x for x in new["text"])
    assert list(t[t["method"] == "original"]["text"]) == texts


@pytest.mark.slow
def test_greedy_back_translation_is_the_same_whatever_the_batching(tiny_via):
    texts = ["a charming film", "the movie is bad and boring", "a funny family film"]
    rows, counts = bt.back_translate(texts, via=tiny_via, n=1, batch_size=2, precision="fp32")
    again, _ = bt.back_translate(texts, via=tiny_via, n=1, batch_size=3, precision="fp32")
    assert again == rows and counts.new == len(rows)
    sampled = bt.back_translate(texts, via=tiny_via, n=3, seed=5, precision="fp32")[0]
    assert sampled == bt.back_translate(texts, via=tiny_via, n=3, seed=5, precision="fp32")[0]


def test_offline_hub_ids_fail_naming_both_models(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(bt, "_hub_reachable", lambda timeout=3.0: False)
    via = "Helsinki-NLP/opus-mt-en-xx-nonexistent,Helsinki-NLP/opus-mt-xx-en-nonexistent"
    with pytest.raises(ReprlearnError) as e:
        bt.back_translate(["a film"], via=via)
    message = str(e.value)
    assert "opus-mt-en-xx-nonexistent" in message and "opus-mt-xx-en-nonexistent" in message
    assert "offline" in message and "\n" not in message


def test_via_needs_two_models():
    with pytest.raises(ReprlearnError, match="SRC2PIVOT,PIVOT2SRC"):
        bt.parse_via("Helsinki-NLP/opus-mt-en-de")
