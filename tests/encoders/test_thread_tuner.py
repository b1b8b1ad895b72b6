"""Intra-op threads chosen by measured speed (:mod:`reprlearn.thread_tuner`) and its use in
the text batching loop (:func:`reprlearn.batching.thread_tuner`)."""

from __future__ import annotations

import datasets
import numpy as np
import pytest
import torch

from reprlearn import batching
from reprlearn.batching import thread_tuner
from reprlearn.encoders import load_encoder
from reprlearn.thread_tuner import ThreadTuner, batch_work, thread_candidates


@pytest.fixture
def tiny_st(tmp_path, save_tiny_st, mr_sentences):
    words = sorted({w for t in mr_sentences for w in t.split()})
    return save_tiny_st(tmp_path, words)


@pytest.fixture(autouse=True)
def _keep_threads():
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


class FakeClock:
    """Seconds that advance only when a fake batch runs (no timing flakiness on a shared
    machine)."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _batch_by_threads(costs: dict[int, float], clock: FakeClock):
    """A fake batch whose seconds depend on the thread count it runs on; returns it and
    the list of counts it ran on."""
    seen: list[int] = []

    def batch() -> int:
        count = torch.get_num_threads()
        seen.append(count)
        clock.now += costs[count]
        return count

    return batch, seen


def test_thread_candidates():
    assert thread_candidates(2) == [2, 1]
    assert thread_candidates(16) == [16, 8]
    assert thread_candidates(1) == [1]


def test_tuner_uses_the_faster_count_and_follows_a_change_of_load():
    """Two threads slower (a shared machine): after trying both, the batches run on one,
    with re-measurements of two ever less often while they confirm it; when two become
    faster (the load went away) the tuner switches back."""
    costs = {2: 0.03, 1: 0.005}
    clock = FakeClock()
    batch, seen = _batch_by_threads(costs, clock)
    tuner = ThreadTuner([2, 1], probe_every=4, clock=clock)
    for _ in range(40):
        tuner.run(batch, work=100)
    assert seen[:2] == [2, 1]  # both measured first, all cores first
    assert tuner.chosen == 1
    probes = [i for i, c in enumerate(seen) if c == 2][1:]
    assert probes == [6, 15, 32]  # after 4, then 8, then 16 batches on the faster count
    costs.update({2: 0.001, 1: 0.03})
    for _ in range(60):
        tuner.run(batch, work=100)
    assert tuner.chosen == 2 and seen[-10:].count(2) >= 9  # at most one probe of 1


def test_one_tuner_per_process_and_model_keeps_its_measurements(tiny_st, monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr("reprlearn.batching.physical_cores", lambda: 2)
    monkeypatch.setattr("reprlearn.batching._TUNERS", {})
    enc = load_encoder(f"st:{tiny_st}")
    first = thread_tuner(enc)
    first.cost = {2: 1.0, 1: 0.5}
    assert thread_tuner(enc) is first and first.chosen == 1
    enc.dtype = torch.bfloat16  # another precision: measured afresh
    assert thread_tuner(enc) is not first


def test_tuner_compares_cost_per_unit_of_work_and_restores_the_count():
    torch.set_num_threads(2)
    clock = FakeClock()
    batch, _ = _batch_by_threads({2: 0.02, 1: 0.012}, clock)
    tuner = ThreadTuner([2, 1], clock=clock)
    tuner.run(batch, work=200)  # 2 threads: 0.1 ms per token
    tuner.run(batch, work=150)  # 1 thread: 0.08 ms per token: faster per unit of work
    assert tuner.chosen == 1
    tuner.close()
    assert torch.get_num_threads() == 2
    with pytest.raises(ValueError, match=">= 1"):
        ThreadTuner([0])
    with pytest.raises(ValueError, match="probe_every"):
        ThreadTuner([1], probe_every=1)


def test_batch_work_counts_padded_tokens():
    batch = {"input_ids": torch.zeros(7, 13, dtype=torch.long)}
    assert batch_work(batch, 7) == 91
    assert batch_work(torch.zeros(5, 3, 32, 32), 5) == 5


def test_thread_tuner_respects_omp_num_threads(tiny_st, monkeypatch):
    enc = load_encoder(f"st:{tiny_st}")
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr("reprlearn.batching.physical_cores", lambda: 2)
    assert thread_tuner(enc).candidates == [2, 1]
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    torch.set_num_threads(2)
    assert thread_tuner(enc).candidates == [2]


def test_embed_on_one_or_all_threads_gives_the_same_vectors(tiny_st, mr_sentences, monkeypatch):
    """The tuner only changes the thread count: the vectors of a run that measured one
    thread faster equal those of a run on all cores, and the caller's count is restored."""
    from reprlearn.embed import encode_items

    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr("reprlearn.batching.physical_cores", lambda: 2)
    monkeypatch.setattr("reprlearn.batching._TUNERS", {})
    texts = mr_sentences * 4  # 160 texts in many small batches: both counts run
    monkeypatch.setitem(batching.BUDGETS, "cpu", (256, 64, 2**24))
    tuned = encode_items(f"st:{tiny_st}", texts, precision="fp32")
    assert torch.get_num_threads() == 2
    monkeypatch.setattr("reprlearn.batching.thread_candidates", lambda c: [c])
    fixed = encode_items(f"st:{tiny_st}", texts, precision="fp32")
    np.testing.assert_allclose(tuned, fixed, atol=1e-5)


def test_manifest_threads_is_the_count_the_tuner_chose(tiny_st, tmp_path, monkeypatch):
    """The manifest's timing.threads was torch's count after the run, which the tuner had
    restored: it now reports the count the batches ran on."""
    from reprlearn import batching
    from reprlearn.embed import embed

    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(batching, "_TUNERS", {})
    monkeypatch.setattr(batching, "check_threads", lambda: 2)
    enc = load_encoder(f"st:{tiny_st}")
    texts = datasets.Dataset.from_dict({"text": [f"text {i} " * (i % 7 + 1) for i in range(40)]})
    embed(texts, enc, tmp_path / "a", progress=False, precision="fp32")
    (tuner,) = batching._TUNERS.values()
    tuner.cost = {2: 2.0, 1: 1.0}  # one thread measured faster
    assert batching.torch_threads(enc) == 1
    store = embed(texts, enc, tmp_path / "b", progress=False, precision="fp32")
    assert store.manifest["timing"]["threads"] == tuner.chosen


def test_small_tail_batches_run_on_the_chosen_count_and_are_not_measured():
    """A shard's last batch of a few tokens costs far more per token (fixed costs): it
    must not make the tuner leave the faster count (seen on SUBJ: 700 vs 1,040 texts/s)."""
    torch.set_num_threads(2)
    clock = FakeClock()
    batch, seen = _batch_by_threads({2: 0.01, 1: 0.02}, clock)
    tuner = ThreadTuner([2, 1], probe_every=4, clock=clock)
    for _ in range(2):
        tuner.run(batch, work=4000)  # 2 threads: 2.5 us a token; 1 thread: 5
    assert tuner.chosen == 2
    tuner.run(batch, work=36)  # 2 threads: 280 us a token, the tail of a shard
    assert tuner.chosen == 2 and tuner.cost[2] == pytest.approx(0.01 / 4000)
    assert seen == [2, 1, 2]
    tuner.close()


def test_one_slow_batch_does_not_move_the_tuner_off_the_faster_count():
    """Interference (a producer thread tokenising beside the batch) only adds time: one
    much slower batch on the faster count must not make the next ones run on the other."""
    torch.set_num_threads(2)
    clock = FakeClock()
    costs = {2: 0.01, 1: 0.02}
    batch, seen = _batch_by_threads(costs, clock)
    tuner = ThreadTuner([2, 1], probe_every=8, clock=clock)  # no re-measurement below
    for _ in range(3):
        tuner.run(batch, work=4000)
    costs[2] = 0.035  # one disturbed batch (3.5x: a running mean would now favour 1)
    tuner.run(batch, work=4000)
    costs[2] = 0.01
    for _ in range(3):
        tuner.run(batch, work=4000)
    assert seen == [2, 1, 2, 2, 2, 2, 2] and tuner.chosen == 2
    tuner.close()


def test_on_idle_cores_all_threads_are_not_re_checked_until_a_batch_slows():
    """All cores at their usual speed: no batch is spent on one thread after the first
    comparison; once batches slow down (load), fewer threads are measured again."""
    torch.set_num_threads(2)
    clock = FakeClock()
    costs = {2: 0.01, 1: 0.02}
    batch, seen = _batch_by_threads(costs, clock)
    tuner = ThreadTuner([2, 1], probe_every=4, clock=clock)
    for _ in range(30):
        tuner.run(batch, work=4000)
    assert seen.count(1) == 1  # the first comparison only
    costs.update({2: 0.05, 1: 0.02})  # other jobs arrive
    for _ in range(10):
        tuner.run(batch, work=4000)
    assert tuner.chosen == 1 and seen[-3:] == [1, 1, 1]
    tuner.close()
