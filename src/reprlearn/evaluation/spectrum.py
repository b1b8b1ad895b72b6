"""The eigendecomposition of the uncentred Gram matrix ``F^T F`` of features ``F`` ``(n, d)``,
computed once and shared by RankMe (the effective rank of ``inspect``) and LogME.

Both measures take the spectrum of the same matrix: RankMe the singular values of the
uncentred embeddings (Garrido et al. 2023), LogME the squared singular values and the
right singular vectors of the uncentred features (You et al. 2021, thuml/LogME
``truncated_svd``). ``compare`` runs them on the same store one after the other, so the
``O(d^3)`` part (for a 4,096-d TF-IDF store the largest single cost of its evaluation)
is done once: :func:`gram_spectrum` keeps the last decomposition, keyed by a hash of the
features' bytes, until LogME has used it (:func:`release`).

Method: LAPACK ``dsytrd`` reduces ``G = F^T F`` (float64) to a tridiagonal ``T = Q^T G Q``
(the cost of an eigenvalues-only ``eigvalsh``); ``T``'s eigenvalues and vectors ``S``
come from ``scipy.linalg.eigh_tridiagonal`` (MRRR, ``O(d^2)``). The eigenvectors of
``G``, ``V = Q S``, are never formed: LogME needs only ``V^T B`` for its ``(d, classes)``
right-hand side ``B = F^T Y``, which :meth:`GramSpectrum.project` computes as
``S^T (Q^T B)`` by applying the ``d - 1`` Householder reflectors of ``Q`` to ``B``.
This replaces a full ``eigh`` (eigenvalues and the ``d x d`` vectors: 6x an ``eigvalsh``
measured at ``d = 4,096``) and an ``eigvalsh`` by one reduction. Same numbers to float64
rounding. All-zero columns add only zero eigenvalues and are left out (``columns``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.linalg import eigh_tridiagonal
from scipy.linalg.lapack import get_lapack_funcs

_LAST: dict[str, GramSpectrum] = {}  # one entry: the last decomposition


@dataclass
class GramSpectrum:
    """``G = F^T F`` over the non-zero columns of ``F``: ``eigenvalues`` float64 ``(m,)``
    ascending (clipped at 0), ``columns`` int ``(m,)`` the non-zero columns of ``F``, and
    what :meth:`project` needs (the Householder reflectors of ``dsytrd`` and the
    tridiagonal's eigenvectors, computed on first use)."""

    eigenvalues: np.ndarray
    columns: np.ndarray
    n_features: int
    _reflectors: np.ndarray
    _tau: np.ndarray
    _diagonal: np.ndarray
    _offdiagonal: np.ndarray
    _vectors: np.ndarray | None = None

    def project(self, B: np.ndarray) -> np.ndarray:
        """``V^T B`` ``(m, c)`` for ``B`` ``(n_features, c)`` (or already ``(m, c)`` over
        ``columns``), ``V`` ``(m, m)`` the unit eigenvectors of ``G`` in the order of
        ``eigenvalues`` (each up to its sign, as any eigensolver's)."""
        B = np.asarray(B, dtype=np.float64)
        Z = np.array(B[self.columns] if len(B) == self.n_features else B, order="C")
        if len(self._tau) and Z.shape[1]:
            Z[1:] = _apply_qt(self._reflectors, self._tau, Z[1:])
        if self._vectors is None:
            _, self._vectors = eigh_tridiagonal(self._diagonal, self._offdiagonal)
        return self._vectors.T @ Z


def _apply_qt(A: np.ndarray, tau: np.ndarray, C: np.ndarray) -> np.ndarray:
    """``Q^T C`` for the ``Q`` of a lower ``dsytrd`` (reflectors in ``A`` below its
    subdiagonal, ``tau`` ``(m - 1,)``) and ``C`` the rows ``1..m-1`` of the right-hand
    side: LAPACK ``dormtr`` does exactly this as ``dormqr`` on ``A[1:, :m-1]``, blocked
    (scipy wraps ``dormqr`` only)."""
    ormqr = get_lapack_funcs("ormqr", (A,))
    m = len(A)
    lwork = max(1, 64 * C.shape[1])
    out, _, info = ormqr("L", "T", A[1:, : m - 1], tau, np.asfortranarray(C), lwork)
    if info != 0:
        raise np.linalg.LinAlgError(f"dormqr failed (info={info})")
    return out


def features_key(F) -> str:
    """A hash of ``F`` (dense array or scipy sparse matrix): its shape, dtype and values."""
    h = hashlib.blake2b(digest_size=16)
    if sp.issparse(F):
        F = sp.csr_matrix(F)
        h.update(f"csr{F.shape}{F.dtype}".encode())
        for part in (F.indptr, F.indices, F.data):
            h.update(np.ascontiguousarray(part).data)
    else:
        F = np.ascontiguousarray(F)
        h.update(f"dense{F.shape}{F.dtype}".encode())
        h.update(F.data)
    return h.hexdigest()


def gram_spectrum(F) -> GramSpectrum:
    """The :class:`GramSpectrum` of ``F`` ``(n, d)`` (dense or CSR, any float dtype; the
    Gram is formed in float64). The last result is kept: a second call with the same
    values (RankMe, then LogME on the same store) returns it without recomputing."""
    key = features_key(F)
    if key in _LAST:
        return _LAST[key]
    n, d = F.shape
    if sp.issparse(F):
        F = sp.csr_matrix(F, dtype=np.float64)
        columns = np.flatnonzero(np.asarray(abs(F).sum(0)).ravel())
        A = F[:, columns]
        G = np.asarray((A.T @ A).toarray())
    else:
        F = np.asarray(F)
        columns = np.flatnonzero(np.abs(F).sum(0))
        A = F[:, columns].astype(np.float64)
        G = A.T @ A
    spectrum = _decompose(np.asfortranarray(G), columns, d)
    _LAST.clear()
    _LAST[key] = spectrum
    return spectrum


def release() -> None:
    """Drop the kept decomposition (LogME calls it when done: for a 4,096-d store the
    reflectors and eigenvectors hold about 270 MB)."""
    _LAST.clear()


def _decompose(G: np.ndarray, columns: np.ndarray, n_features: int) -> GramSpectrum:
    m = len(G)
    if m == 0:
        empty = np.zeros(0)
        return GramSpectrum(empty, columns, n_features, np.zeros((0, 0)), empty, empty, empty)
    if m == 1:
        value = np.clip(G[0], 0.0, None)
        return GramSpectrum(value.copy(), columns, n_features, np.zeros((1, 1)), np.zeros(0),
                            G[0].copy(), np.zeros(0), np.ones((1, 1)))  # fmt: skip
    sytrd, sytrd_lwork = get_lapack_funcs(("sytrd", "sytrd_lwork"), (G,))
    lwork, info = sytrd_lwork(m, lower=1)
    c, diagonal, offdiagonal, tau, info = sytrd(G, lower=1, lwork=int(lwork), overwrite_a=1)
    if info != 0:
        raise np.linalg.LinAlgError(f"dsytrd failed (info={info})")
    eigenvalues = eigh_tridiagonal(diagonal, offdiagonal, eigvals_only=True)
    return GramSpectrum(np.clip(eigenvalues, 0.0, None), columns, n_features, c, tau,
                        diagonal, offdiagonal)  # fmt: skip


__all__ = ["GramSpectrum", "features_key", "gram_spectrum", "release"]
