"""One BLAS thread for small evaluation work.

OpenBLAS (numpy's and scipy's BLAS) splits every product over all cores, and its idle
threads spin for a while before they sleep (its build option ``THREAD_TIMEOUT``). For the
small products of an evaluation protocol this costs more than it gives: the split
itself, and (the likely reason, not measured apart) spinning threads that take the cores
from the OpenMP threads of scikit-learn's k-means or from torch. Measured on the
10k-text, 54-class set of ``benchmarks/compare_stages.py`` on 2 cores (medians of 3
rounds, the same scores bit for bit): k-means 1.80 -> 1.42 s (LSA-256) and 2.65 -> 2.44 s
(MiniLM), label efficiency 0.77 -> 0.70 s (LSA-256) and 0.62 -> 0.36 s (MiniLM); one
SentEval fit on 8,100 x 384 rows 3.9 -> 1.75 s.

Larger work (``n * dim * k`` of at least :data:`SMALL_WORK` multiply-adds, the bound the
linear probe uses for torch's threads) keeps every thread.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext

from threadpoolctl import threadpool_limits

# n * dim * k multiply-adds below which BLAS runs on one thread (and the linear probe's
# L-BFGS on one torch thread: evaluation.linear_probe._cpu_threads)
SMALL_WORK = 1_000_000_000


def blas_threads_for(work: float) -> AbstractContextManager:
    """A context in which numpy's and scipy's BLAS run on one thread when ``work`` (the
    protocol's ``n * dim * k`` multiply-adds) is below :data:`SMALL_WORK`, and on every
    thread otherwise."""
    return threadpool_limits(1, user_api="blas") if work < SMALL_WORK else nullcontext()


__all__ = ["SMALL_WORK", "blas_threads_for"]
