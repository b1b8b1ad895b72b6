"""Sparse views of mostly-zero embeddings, so the evaluation costs what the data holds.

Bag-of-words encoders (``tfidf``, ``bow``) store dense float32 rows that are over 99%
zeros (a 4,096-d TF-IDF row of a ten-word question has about 12 non-zeros). Matrix
products with a ``scipy.sparse`` CSR view of such rows cost ``nnz x k`` instead of
``n x dim x k``: the same numbers (exact arithmetic on the same non-zeros, only the
summation order differs) hundreds of times faster. Dense embeddings (MiniLM, LSA, pixels)
stay dense.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

MAX_DENSITY = 0.05  # CSR pays off below ~5% non-zeros (index overhead ~3x a dense float)
MIN_DIM = 256  # below this, dense BLAS is as fast and the view is not worth building


def sparse_view(X: np.ndarray, max_density: float = MAX_DENSITY) -> sp.csr_matrix | None:
    """A CSR copy of ``X`` ``(n, dim)`` when at most ``max_density`` of its entries are
    non-zero and ``dim >= 256``, else None (use ``X`` as it is).

    The density is first estimated on at most 256 rows (cheap), then confirmed on all.
    """
    if sp.issparse(X):
        return sp.csr_matrix(X)
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[1] < MIN_DIM or X.size == 0:
        return None
    head = X[:: max(1, len(X) // 256)]
    if np.count_nonzero(head) > max_density * head.size:
        return None
    S = sp.csr_matrix(X)
    return S if S.nnz <= max_density * X.size else None


__all__ = ["MAX_DENSITY", "sparse_view"]
