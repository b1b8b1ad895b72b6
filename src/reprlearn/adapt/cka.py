"""Linear centred kernel alignment (CKA) between two representations of the same items.

Kornblith et al., "Similarity of Neural Network Representations Revisited", ICML 2019,
Eq. (2) with linear kernels: ``||Y^T X||_F^2 / (||X^T X||_F ||Y^T Y||_F)`` on column-centred
``X (n, d1)`` and ``Y (n, d2)``. 1 = the same up to rotation and isotropic scaling; used to
measure how far fine-tuning moved the backbone's features ("feature distortion", Kumar et
al. 2022).
"""

from __future__ import annotations

import numpy as np


def linear_cka(X: np.ndarray, Y: np.ndarray) -> float:
    """Linear CKA in [0, 1] between ``X (n, d1)`` and ``Y (n, d2)`` (rows = the same items).

    Raises:
        ValueError: different numbers of rows, or fewer than 2 rows.
    """
    X = np.asarray(X, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    if len(X) != len(Y) or len(X) < 2:
        raise ValueError(f"linear_cka needs the same >= 2 items in both ({len(X)} vs {len(Y)})")
    X = X - X.mean(0)
    Y = Y - Y.mean(0)
    cross = np.linalg.norm(Y.T @ X) ** 2
    denom = np.linalg.norm(X.T @ X) * np.linalg.norm(Y.T @ Y)
    return float(cross / denom) if denom > 0 else 0.0
