"""Token-budget batching, the tokenising producer thread and the thread check
(:mod:`reprlearn.batching`), on real sentences (MR, TREC) and a tiny sentence-transformers
model."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch

from reprlearn.batching import (
    MAX_BATCH_ITEMS,
    TOKEN_BUDGET,
    Run,
    check_threads,
    physical_cores,
    prefetched,
    token_batches,
    token_budget,
)
from reprlearn.encoders import load_encoder


@pytest.fixture
def tiny_st(tmp_path, tiny_bert):
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer

    transformer = Transformer(str(tiny_bert), max_seq_length=48)
    model = SentenceTransformer(
        modules=[transformer, Pooling(32, "mean"), Normalize()], device="cpu"
    )
    model.save(str(tmp_path / "tiny-st"))
    return tmp_path / "tiny-st"


def _check_cover(batches: list[list[int]], lengths: np.ndarray, budget: int) -> None:
    flat = [i for b in batches for i in b]
    assert sorted(flat) == list(range(len(lengths)))  # every row once
    for b in batches:
        padded = len(b) * int(np.maximum(lengths[b], 1).max())
        assert padded <= budget or len(b) == 1
        assert len(b) <= MAX_BATCH_ITEMS
        assert list(lengths[b]) == sorted(lengths[b], reverse=True)  # longest first


def test_token_batches_short_texts_get_more_items_than_long_ones():
    rng = np.random.default_rng(0)
    short = rng.integers(8, 20, 3000)  # TREC-like questions: ~13 tokens
    long = rng.integers(30, 80, 3000)  # MR-like snippets: ~28 tokens, tail to 80
    for lengths in (short, long):
        _check_cover(token_batches(lengths, 4096), lengths, 4096)
    n_short = np.mean([len(b) for b in token_batches(short, 4096)])
    n_long = np.mean([len(b) for b in token_batches(long, 4096)])
    assert n_short > 3 * n_long  # the budget is in tokens, not items


def test_max_padding_keeps_a_long_tail_from_padding_short_texts():
    lengths = np.array([41, 38, 36] + [13] * 397)
    one = token_batches(lengths, 16384)  # default: budget and items only
    assert [len(b) for b in one] == [399, 1]
    batches = token_batches(lengths, 16384, max_padding=4096)
    assert all(len(b) * lengths[b].max() - lengths[b].sum() <= 4096 for b in batches)
    assert sum(len(b) * lengths[b].max() for b in batches) <= 2 * lengths.sum()  # was 3.1x
    _check_cover(batches, lengths, 16384)


def test_token_batches_edge_cases():
    assert token_batches(np.array([], dtype=np.int64), 100) == []
    _check_cover(token_batches(np.array([500, 3, 0, 7]), 100), np.array([500, 3, 0, 7]), 100)
    assert token_batches(np.array([500, 3]), 100)[0] == [0]  # over budget: alone
    assert max(len(b) for b in token_batches(np.ones(5000, dtype=int), 10**6)) == MAX_BATCH_ITEMS


def test_token_budget_from_the_length_distribution():
    assert token_budget(np.full(100, 13)) == TOKEN_BUDGET
    long = token_budget(np.full(100, 4096))  # attention scores bound the batch
    assert 4096 <= long <= max(TOKEN_BUDGET, 4096)
    assert token_budget(np.array([10**6])) == 10**6  # never below the longest text


def test_token_budget_per_device_type():
    """A GPU gets larger batches than the CPU; device types without values use the CPU's."""
    from reprlearn.batching import BUDGETS, max_batch_items

    short = np.full(100, 13)
    assert token_budget(short, "cuda") == BUDGETS["cuda"][0] > token_budget(short, "cpu")
    assert max_batch_items("cuda") > max_batch_items("cpu") == MAX_BATCH_ITEMS
    assert token_budget(short, "mps") == token_budget(short, "cpu")
    long = np.full(100, 4096)  # the attention bound still applies on a GPU
    assert 4096 <= token_budget(long, "cuda") < BUDGETS["cuda"][0]


def _batches_run(enc, texts, run, monkeypatch) -> list[list[int]]:
    """The row batches ``encode_rows`` runs ``texts`` in (recorded from :func:`_grouped`)."""
    import reprlearn.batching as batching

    seen, grouped = [], batching._grouped

    def recording(*args):
        for rows, batch in grouped(*args):
            seen.append(list(rows))
            yield rows, batch

    monkeypatch.setattr(batching, "_grouped", recording)
    batching.encode_rows(texts, np.arange(len(texts)), run, abs)
    monkeypatch.setattr(batching, "_grouped", grouped)
    return seen


def test_default_text_batches_follow_tokens_not_items(tiny_st, shared_data, monkeypatch):
    """Regression: texts were cut into fixed batches of 256 items whatever their length;
    short TREC questions now run in larger batches, long MR snippets in smaller ones."""
    from reprlearn.data import load_dataset

    enc = load_encoder(f"st:{tiny_st}")
    trec = list(load_dataset(str(shared_data / "senteval" / "TREC")).select(range(1500))["text"])
    run = Run(enc, 256, 0, "raise", False, str, token_budget="auto")
    batches = _batches_run(enc, trec, run, monkeypatch)
    assert max(len(b) for b in batches) > 256
    lengths = np.asarray(enc.lengths(trec))
    _check_cover(batches, lengths, token_budget(lengths))
    fixed = Run(enc, 256, 0, "raise", False, str)  # an explicit --batch-size: items
    assert max(len(b) for b in _batches_run(enc, trec, fixed, monkeypatch)) == 256


def test_token_batches_give_the_same_vectors_in_input_order(tiny_st, mr_sentences):
    """Order and ids unchanged: token-budget batches == fixed batches of 8 == encode()."""
    from sentence_transformers import SentenceTransformer

    from reprlearn.embed import encode_items

    texts = mr_sentences + ["a", "word " * 60]  # 1-token and truncated texts
    ours = encode_items(f"st:{tiny_st}", texts, precision="fp32")
    fixed = encode_items(f"st:{tiny_st}", texts, precision="fp32", batch_size=8)
    ref = SentenceTransformer(str(tiny_st), device="cpu").encode(texts)
    np.testing.assert_allclose(ours, fixed, atol=1e-5)
    np.testing.assert_allclose(ours, ref, atol=1e-5)


def test_embed_store_keeps_ids_and_skips_bad_rows(tiny_st, mr_sentences, tmp_path):
    import datasets

    from reprlearn.embed import embed

    texts = [t if i % 7 else None for i, t in enumerate(mr_sentences)]  # None: a bad item
    ds = datasets.Dataset.from_dict({"text": texts})
    store = embed(
        ds,
        f"st:{tiny_st}",
        tmp_path / "s",
        on_error="skip",
        shard_size=16,
        progress=False,
        precision="fp32",
    )
    X, _ = store.to_numpy()
    kept = [i for i, t in enumerate(texts) if t is not None]
    assert store.ids().tolist() == kept
    from reprlearn.embed import encode_items

    ref = encode_items(f"st:{tiny_st}", [texts[i] for i in kept], precision="fp32")
    np.testing.assert_allclose(X, ref, atol=1e-5)
    manifest = store.manifest
    assert manifest["encoder"]["backend"] == "torch"
    assert "auto picked torch" in manifest["encoder"]["backend_choice"]
    assert manifest["precision"] == "fp32"
    # the count the batches ran on: all cores or half (the thread tuner's choice)
    cores = torch.get_num_threads()
    assert manifest["timing"]["threads"] in {cores, max(1, cores // 2)}


def test_prefetched_keeps_order_and_runs_ahead():
    """The producer makes item k+1 while the consumer still holds item k (no timing)."""
    made = [threading.Event() for _ in range(4)]

    def produce():
        for k in range(4):
            made[k].set()
            yield k

    seen = []
    for k in prefetched(produce()):
        if k < 3:
            assert made[k + 1].wait(timeout=10)  # made while we hold k
        seen.append(k)
    assert seen == [0, 1, 2, 3]


def test_prefetched_raises_the_producers_error_and_stops_when_closed():
    def broken():
        yield 1
        raise ValueError("bad row 2")

    with pytest.raises(ValueError, match="bad row 2"):
        list(prefetched(broken()))

    produced = []

    def endless():
        k = 0
        while True:
            produced.append(k)
            yield k
            k += 1

    gen = prefetched(endless(), depth=2)
    assert next(gen) == 0
    gen.close()  # the consumer stops early (e.g. a DataError): the producer ends too
    assert not any(t.name == "reprlearn-tokenize" and t.is_alive() for t in threading.enumerate())
    assert len(produced) <= 5


def test_check_threads_uses_physical_cores(monkeypatch):
    before = torch.get_num_threads()
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    try:
        torch.set_num_threads(max(1, physical_cores() + 1))
        assert check_threads() == physical_cores()
        monkeypatch.setenv("OMP_NUM_THREADS", "1")  # the user's choice wins
        torch.set_num_threads(1)
        assert check_threads() == 1
    finally:
        torch.set_num_threads(before)


def _instrumented(enc, monkeypatch):
    """Record the texts per ``collate`` call and the padded tokens per forward pass."""
    collated, forwarded = [], []
    collate, forward = enc.collate, enc.forward
    monkeypatch.setattr(enc, "collate", lambda b: collated.append(len(b)) or collate(b))
    monkeypatch.setattr(
        enc, "forward", lambda b: forwarded.append(b["input_ids"].numel()) or forward(b)
    )
    return collated, forwarded


def test_each_text_is_tokenised_once_and_batches_pad_little(tiny_st, shared_data, monkeypatch):
    """Texts are grouped by token counts estimated from characters, tokenised once per
    group, and cut into batches by their real counts: every text goes through the
    tokenizer once (it went twice before), the batches carry at most 15% more padded
    tokens than batches of exactly counted texts, none is over the budget, and the
    vectors are the per-text ones."""
    from reprlearn.batching import encode_rows
    from reprlearn.data import load_dataset

    enc = load_encoder(f"st:{tiny_st}").to("cpu")
    mr = list(load_dataset(str(shared_data / "senteval" / "MR")).select(range(600))["text"])
    real = np.asarray(enc.lengths(mr))
    collated, forwarded = _instrumented(enc, monkeypatch)
    run = Run(enc, 256, 0, "raise", False, str, token_budget=1024)
    ids, X, skipped = encode_rows(mr, np.arange(len(mr)), run, lambda n: None)
    assert sum(collated) == len(mr) and not skipped and ids.tolist() == list(range(len(mr)))
    exact = sum(len(b) * real[b].max() for b in token_batches(real, 1024))
    assert max(forwarded) <= 1024 and sum(forwarded) <= 1.15 * exact
    reference = np.stack([enc.encode([t])[0] for t in mr[:20]])
    np.testing.assert_allclose(X[:20], reference, atol=1e-5)


def test_a_far_too_short_estimate_still_gives_batches_within_the_budget(
    tiny_st, shared_data, monkeypatch
):
    """Estimated counts far too short (a script with more tokens per character than the
    sample): a group is larger, but its batches are cut by the real counts."""
    import reprlearn.batching as batching
    from reprlearn.batching import encode_rows
    from reprlearn.data import load_dataset

    enc = load_encoder(f"st:{tiny_st}").to("cpu")
    mr = list(load_dataset(str(shared_data / "senteval" / "MR")).select(range(120))["text"])
    collated, forwarded = _instrumented(enc, monkeypatch)
    monkeypatch.setattr(batching, "estimated_tokens", lambda e, t: np.ones(len(t), np.int64))
    run = Run(enc, 256, 0, "raise", False, str, token_budget=512)
    ids, X, _ = encode_rows(mr, np.arange(len(mr)), run, lambda n: None)
    assert sum(collated) == len(mr) and ids.tolist() == list(range(len(mr)))
    assert max(forwarded) <= 512 and len(forwarded) > len(collated)
    np.testing.assert_allclose(X[:5], np.stack([enc.encode([t])[0] for t in mr[:5]]), atol=1e-5)


def test_an_explicit_batch_size_gives_batches_of_that_many_texts(tiny_st, shared_data, monkeypatch):
    from reprlearn.batching import encode_rows
    from reprlearn.data import load_dataset

    enc = load_encoder(f"st:{tiny_st}").to("cpu")
    mr = list(load_dataset(str(shared_data / "senteval" / "MR")).select(range(100))["text"])
    collated, _ = _instrumented(enc, monkeypatch)
    sizes = []
    forward = enc.forward
    monkeypatch.setattr(enc, "forward", lambda b: sizes.append(len(b["input_ids"])) or forward(b))
    ids, _, _ = encode_rows(mr, np.arange(100), Run(enc, 16, 0, "raise", False, str), abs)
    assert sum(collated) == 100 and sorted(sizes)[-1] == 16 and sum(sizes) == 100
    assert ids.tolist() == list(range(100))


def test_texts_tokenised_in_worker_processes_give_the_same_store(tiny_st, shared_data, tmp_path):
    """``num_workers`` > 0 (the default for texts on a GPU) tokenises groups in worker
    processes: same ids, order and vectors as the producer thread."""
    from reprlearn.data import load_dataset
    from reprlearn.embed import embed

    enc = load_encoder(f"st:{tiny_st}")
    ds = load_dataset(str(shared_data / "senteval" / "TREC")).select(range(400))
    kw = dict(progress=False, precision="fp32", shard_size=150)
    thread = embed(ds, enc, tmp_path / "thread", num_workers=0, **kw)
    workers = embed(ds, enc, tmp_path / "workers", num_workers=2, **kw)
    assert workers.ids().tolist() == thread.ids().tolist() == list(range(400))
    np.testing.assert_allclose(workers.to_numpy()[0], thread.to_numpy()[0], atol=1e-6)


def test_default_workers_tokenise_in_processes_only_for_a_gpu(tiny_st, monkeypatch):
    from reprlearn.batching import default_workers

    enc = load_encoder(f"st:{tiny_st}")
    monkeypatch.setattr("os.cpu_count", lambda: 16)
    assert default_workers(enc) == 0  # CPU: the cores run the forward pass
    enc.device = torch.device("cuda")  # only the attribute: no GPU needed
    assert default_workers(enc) == 4
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    assert default_workers(enc) == 0
