"""Intra-op threads chosen by measured speed, batch by batch (CPU inference).

Torch runs each operator with OpenMP on ``torch.get_num_threads()`` threads and waits at a
barrier after it; a forward pass of a small transformer is hundreds of operators. When
other processes keep the cores busy, a thread that is descheduled stalls every barrier:
measured on 2 cores shared with other jobs (load average 6-8), MiniLM bf16 on batches of
32-token texts ran 250-450 texts/s on **one** thread and 90-270 texts/s on two; on an idle
machine two threads are faster. Which is faster depends on the load at the time, so
:class:`ThreadTuner` measures it: each batch runs on one of the candidate counts (all
physical cores, or half of them), the time per unit of work (padded tokens) is kept per
count, the faster count is used, and the other is re-measured every ``probe_every``
batches so a change of load is followed (on all cores, only when the latest batch was
slower than usual: on idle cores there is nothing to follow). The vectors do not depend on the thread count
beyond floating-point summation order.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import torch

T = TypeVar("T")
PROBE_EVERY = 4  # batches before the first re-measurement of a slower count
MAX_PROBE_EVERY = 64  # the interval doubles while re-measurements confirm the choice
# a count's cost is the least of its last WINDOW measurements (as timeit reports the
# minimum: interference only ever adds time): on 2 idle cores one batch in about eight
# ran 2.3x slower on 2 threads (the producer thread tokenising beside it), and a running
# mean that weighed it by half moved the next shard to one thread (TREC: 1,270 vs 2,250
# texts/s). A lasting change of load still shows once it fills a count's window.
WINDOW = 5
# on all cores, the fewer-thread count is re-measured when due only if the latest batch
# ran more than this much slower per token than the best of the window (load)
STEADY = 1.5  # batches of other lengths differ by up to 1.45x on idle cores; load: 2-3x
# batches under this share of the largest one seen are not measured: their fixed costs
# (Python, kernel set-up) dominate, e.g. MiniLM on 2 idle cores, 2 threads: 36 tokens at
# 320 us a token, 4,000-token batches at 25-35: one such tail batch recorded against a
# count made the tuner run the next shards on the slower one (SUBJ: 700 vs 1,040 texts/s)
MEASURED_SHARE = 0.5


def thread_candidates(cores: int) -> list[int]:
    """Counts to choose from for ``cores`` physical cores: ``[cores, cores // 2]`` (one
    entry when ``cores`` is 1)."""
    return sorted({max(1, cores), max(1, cores // 2)}, reverse=True)


class ThreadTuner:
    """Runs batches on the intra-op thread count measured fastest so far.

    Args:
        candidates: thread counts to choose from (``>= 1``), tried in this order first.
        probe_every: batches between the first measurement of every count and the first
            re-measurement of a slower one (the count measured longest ago); the interval
            doubles (up to :data:`MAX_PROBE_EVERY`) each time a re-measurement confirms
            the choice, and falls back to ``probe_every`` when one changes it, so a slow
            count costs little once the choice is clear and a change of load is followed.
        clock: seconds now (``time.perf_counter``; tests pass a fake one).

    Use :meth:`begin` before a run of batches, :meth:`run` per batch and :meth:`close`
    at the end (restores the thread count found by :meth:`begin`); one tuner may serve
    many runs in a process, keeping what it measured. ``chosen`` is the count measured
    fastest.
    """

    def __init__(
        self,
        candidates: Sequence[int],
        probe_every: int = PROBE_EVERY,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        if not candidates or min(candidates) < 1:
            raise ValueError(f"thread candidates must be counts >= 1, got {list(candidates)}")
        if probe_every < 2:
            raise ValueError(f"probe_every must be >= 2, got {probe_every}")
        self.candidates = list(dict.fromkeys(int(c) for c in candidates))
        self.probe_every, self.clock = probe_every, clock
        self.interval = probe_every
        self.next_probe: int | None = None  # set once every count has been measured
        self.cost: dict[int, float] = {}  # seconds per unit of work, least in the window
        self.seen: dict[int, deque[float]] = {}  # the last WINDOW measurements per count
        self.last_seen: dict[int, int] = {}
        self.batches = 0
        self.largest = 0.0  # the most work of one batch seen
        self.initial = torch.get_num_threads()

    def begin(self) -> ThreadTuner:
        """Start a run: remember the thread count to restore at :meth:`close`."""
        self.initial = torch.get_num_threads()
        return self

    @property
    def chosen(self) -> int:
        """The count with the lowest measured cost (the first candidate before any)."""
        return min(self.cost, key=self.cost.get) if self.cost else self.candidates[0]

    def next_count(self) -> int:
        """The count the next batch runs on."""
        untried = [c for c in self.candidates if c not in self.cost]
        if untried:
            return untried[0]
        if self.next_probe is not None and self.batches >= self.next_probe:
            if self.chosen == self.candidates[0] and self._steady():
                return self.chosen  # all cores, at their usual speed: nothing to re-check
            others = [c for c in self.candidates if c != self.chosen]
            return min(others, key=lambda c: self.last_seen[c])
        return self.chosen

    def _steady(self) -> bool:
        """Whether the chosen count's latest batch ran within :data:`STEADY` of its best
        cost: a re-measurement of fewer threads is due only when it did not (on idle
        cores every such probe costs a batch at half speed, a fifth of a 1,000-text run)."""
        window = self.seen.get(self.chosen)
        return bool(window) and window[-1] <= STEADY * self.cost[self.chosen]

    def run(self, fn: Callable[[], T], work: float) -> T:
        """``fn()`` on the next count; its seconds per ``work`` unit (> 0) are recorded.
        A batch under :data:`MEASURED_SHARE` of the largest seen runs on the chosen count
        and is not recorded (time per unit of a small batch is mostly fixed costs)."""
        self.largest = max(self.largest, float(work))
        if float(work) < MEASURED_SHARE * self.largest:
            if torch.get_num_threads() != self.chosen:
                torch.set_num_threads(self.chosen)
            return fn()
        count, before = self.next_count(), self.chosen
        probe = count != before and len(self.cost) == len(self.candidates)
        if torch.get_num_threads() != count:
            torch.set_num_threads(count)
        start = self.clock()
        result = fn()
        seconds = self.clock() - start
        per_unit = seconds / max(float(work), 1e-9)
        window = self.seen.setdefault(count, deque(maxlen=WINDOW))
        window.append(per_unit)
        self.cost[count] = min(window)
        self.last_seen[count] = self.batches
        self.batches += 1
        if len(self.candidates) > 1 and len(self.cost) == len(self.candidates):
            if probe:  # confirmed: probe less often; changed: probe soon again
                changed = self.chosen != before
                self.interval = (
                    self.probe_every if changed else min(2 * self.interval, MAX_PROBE_EVERY)
                )
            if probe or self.next_probe is None:
                self.next_probe = self.batches + self.interval
        return result

    def close(self) -> None:
        """Restore the thread count found by :meth:`begin` (or at construction)."""
        if torch.get_num_threads() != self.initial:
            torch.set_num_threads(self.initial)


def batch_work(batch: Any, items: int) -> float:
    """Work units of a collated batch: padded tokens (``input_ids.numel()``) for token
    batches, else ``items``."""
    ids = batch.get("input_ids") if hasattr(batch, "get") else None
    return float(ids.numel()) if isinstance(ids, torch.Tensor) else float(items)
