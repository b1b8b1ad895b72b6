"""Label-free diagnostics of an embedding space, and a verdict in plain words.

Each measure needs no labels, so it applies to any store. Rows with NaN or inf are
counted and left out of every other measure. Sources:

* effective rank = RankMe: Garrido, Balestriero, Najman & LeCun (2023), "RankMe:
  Assessing the downstream performance of pretrained self-supervised representations
  by their rank", ICML, eq. 1: ``exp(-sum p_k log p_k)``, ``p_k = s_k / ||s||_1 + eps``
  over the singular values ``s`` of the (uncentred) embedding matrix. Between 1 (all
  items on one line) and ``min(n, dim)``.
* anisotropy: the mean cosine similarity of two different items (Ethayarajh 2019,
  "How contextual are contextualized word representations?"); about 0 for isotropic
  data, near 1 when all vectors point one way. Computed exactly in O(n dim):
  ``(||sum_i u_i||^2 - sum_i ||u_i||^2) / (n (n - 1))`` for the unit rows ``u_i``.
* uniformity: Wang & Isola (2020), "Understanding contrastive representation learning
  through alignment and uniformity on the hypersphere", ICML; reference code
  ``lunif(x, t=2) = torch.pdist(x).pow(2).mul(-t).exp().mean().log()`` on L2-normalised
  rows: from 0 (all equal) down to about -4 (uniform in high dimension; exact value
  :func:`sphere_uniformity`). All pairs up to 4,096 items, else 500,000 seeded pairs.
* hubness: skewness of the k-occurrence distribution ``N_k`` (k = 10), Radovanovic,
  Nanopoulos & Ivanovic (2010), "Hubs in space", JMLR 11. Around 0-1 for
  low-dimensional data; large values mean a few items are everyone's neighbours. On a
  seeded subsample of at most 10,000 items.
* normalised std: the mean over dimensions of the std of the L2-normalised embeddings,
  the collapse signal of SimSiam (Chen & He 2021, "Exploring simple Siamese
  representation learning", sec. 4.1): 0 when collapsed, ``1/sqrt(dim)`` for isotropic
  vectors.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import scipy.sparse as sp
import torch
from scipy import special, stats

from reprlearn.analysis.neighbors import Neighbors, k_occurrence
from reprlearn.analysis.similarity import l2_normalize
from reprlearn.evaluation.sparsity import sparse_cosine_topk, sparse_view, unit_rows
from reprlearn.evaluation.spectrum import gram_spectrum

RANKME_EPS = 1e-7
UNIFORMITY_T = 2.0
UNIFORMITY_EXACT_MAX = 4_096
UNIFORMITY_PAIRS = 500_000
HUBNESS_K = 10
HUBNESS_MAX_ITEMS = 10_000

# Verdict thresholds (see :func:`verdict`).
COLLAPSED_RANK = 2.0  # effective rank below this: collapsed
DUPLICATED_SHARE = 0.5  # more duplicate rows than this share: degenerate
ANISOTROPIC_COSINE = 0.5  # mean cosine above this: anisotropic (a cone)
HUBNESS_SKEW = 5.0  # k-occurrence skewness above this: hubs
LOW_RANK_SHARE = 0.02  # effective rank below this share of min(n, dim): low-rank


def effective_rank(X: np.ndarray, eps: float = RANKME_EPS) -> float:
    """RankMe effective rank of ``X`` ``(n, dim)`` (see the module doc), in [1, min(n, dim)].

    Singular values come from the eigenvalues of the float64 Gram matrix (``dim x dim``
    or ``n x n``, whichever is smaller; from a CSR view for mostly-zero rows such as
    TF-IDF, see :mod:`reprlearn.evaluation.sparsity`): ``dim x dim`` by the tridiagonal
    reduction shared with LogME (:func:`reprlearn.evaluation.spectrum.gram_spectrum`),
    ``n x n`` by ``torch.linalg.eigvalsh`` (LAPACK ``syevd``). All-zero columns and rows add
    zero singular values only: they are left out of the Gram and counted back. (A float32
    Gram's rounding noise, square-rooted, would add ~0.1 to the rank of rank-1 data.)
    """
    s = singular_values(X)
    if s.sum() == 0:
        return 0.0
    p = s / s.sum() + eps
    return float(np.exp(-(p * np.log(p)).sum()))


def singular_values(X: np.ndarray) -> np.ndarray:
    """All ``min(n, dim)`` singular values of ``X`` ``(n, dim)``, float64, ascending, from
    the float64 Gram matrix of its non-zero rows and columns (see :func:`effective_rank`).
    With at least as many non-zero rows as columns, the spectrum of ``X^T X`` comes from
    :func:`reprlearn.evaluation.spectrum.gram_spectrum`, which LogME reuses on the same
    store (one ``O(dim^3)`` reduction for both); else ``X X^T``'s eigenvalues (torch)."""
    n, dim = X.shape
    S = sparse_view(X)
    A = S if S is not None else np.asarray(X)
    nz_cols = np.flatnonzero(abs(A).sum(0).A1 if S is not None else np.abs(A).sum(0))
    nz_rows = np.flatnonzero(abs(A).sum(1).A1 if S is not None else np.abs(A).sum(1))
    if len(nz_rows) >= len(nz_cols):
        ev = gram_spectrum(A).eigenvalues
    else:
        B = A[nz_rows][:, nz_cols].astype(np.float64)
        gram = B @ B.T
        gram = gram.toarray() if hasattr(gram, "toarray") else np.asarray(gram)
        ev = torch.linalg.eigvalsh(torch.from_numpy(np.ascontiguousarray(gram))).numpy()
    s = np.sqrt(np.clip(ev, 0.0, None))
    return np.concatenate([np.zeros(min(n, dim) - len(s)), s])


def mean_cosine(X: np.ndarray) -> float:
    """Exact mean cosine similarity over all pairs of different rows of ``X`` ``(n, dim)``
    (float64 sums; from the non-zeros only when the rows are mostly zeros; ``X`` may be
    CSR)."""
    n = X.shape[0]
    if (U := unit_rows_sparse(X)) is not None:
        total = np.asarray(U.sum(axis=0)).ravel()
        return float((total @ total - U.multiply(U).sum()) / (n * (n - 1)))
    U = l2_normalize(X).astype(np.float64)
    total = U.sum(axis=0)
    return float((total @ total - (U * U).sum()) / (n * (n - 1)))


def unit_rows_sparse(X: np.ndarray):
    """The L2-normalised rows of ``X`` ``(n, dim)`` as a float64 CSR matrix when ``X`` is
    mostly zeros (:func:`reprlearn.evaluation.sparsity.sparse_view`), else None. All-zero
    rows stay zero, as :func:`reprlearn.analysis.similarity.l2_normalize`."""
    S = sparse_view(X)
    return None if S is None else unit_rows(S)


def uniformity(X: np.ndarray, t: float = UNIFORMITY_T, *, seed: int = 0) -> float:
    """Wang & Isola's uniformity ``log E exp(-t ||u - v||^2)`` of the L2-normalised rows.

    Exact over all pairs up to :data:`UNIFORMITY_EXACT_MAX` rows, else estimated on
    :data:`UNIFORMITY_PAIRS` seeded random pairs. Lower = more uniform.
    """
    n = X.shape[0]
    S = unit_rows_sparse(X) if n > UNIFORMITY_EXACT_MAX else None
    X = X.toarray() if S is None and hasattr(X, "toarray") else X
    U = l2_normalize(X) if S is None else S
    if n <= UNIFORMITY_EXACT_MAX:
        sq = (U * U).sum(1, dtype=np.float64)
        d2 = sq[:, None] + sq[None, :] - 2 * (U @ U.T).astype(np.float64)
        d2 = d2[np.triu_indices(n, 1)]
    else:
        rng = np.random.default_rng(seed)
        i, j = rng.integers(n, size=(2, UNIFORMITY_PAIRS))
        keep = i != j
        d2 = _pair_sq_distances(U, i[keep], j[keep])
    d2 = np.clip(d2, 0.0, None)
    return float(special.logsumexp(-t * d2) - np.log(len(d2)))


def sphere_uniformity(dim: int, t: float = UNIFORMITY_T) -> float:
    """Uniformity of the uniform distribution on the unit sphere in ``dim`` dimensions.

    With ``||u - v||^2 = 2 - 2c`` and ``E exp(k c) = Gamma(d/2) (k/2)^(1 - d/2)
    I_{d/2-1}(k)`` for the cosine ``c`` of two uniform unit vectors (a von Mises-Fisher
    normaliser identity). Tends to ``-2t`` as ``dim`` grows (-4 for t=2).
    """
    kappa, nu = 2 * t, dim / 2 - 1
    m = np.arange(200)  # series of I_nu in log space: no underflow in high dimension
    log_e = special.logsumexp(
        2 * m * np.log(kappa / 2)
        + special.gammaln(nu + 1)
        - special.gammaln(m + 1)
        - special.gammaln(m + nu + 1)
    )
    return float(-2 * t + log_e)


def hubness(
    X: np.ndarray, k: int = HUBNESS_K, *, seed: int = 0, neighbors: Neighbors | None = None
) -> float:
    """Skewness of the k-occurrence distribution (cosine kNN, ``k`` = 10 by default).

    Computed on a seeded subsample of at most :data:`HUBNESS_MAX_ITEMS` rows; ``k`` is
    reduced to ``n - 1`` for tiny sets. NaN for fewer than 3 rows. ``neighbors``: the
    cosine neighbour graph of every row of ``X`` (self excluded, at least ``k``
    neighbours each) when the caller has it, used instead of a new search (``X`` of
    at most :data:`HUBNESS_MAX_ITEMS` rows only).
    """
    n = X.shape[0]
    if n < 3:
        return float("nan")
    if neighbors is not None and n <= HUBNESS_MAX_ITEMS and neighbors.k >= min(k, n - 1):
        counts = np.bincount(neighbors.indices[:, : min(k, n - 1)].ravel(), minlength=n)
        return float(stats.skew(counts)) if counts.std() > 0 else 0.0
    if n > HUBNESS_MAX_ITEMS:
        X = X[np.sort(np.random.default_rng(seed).choice(n, HUBNESS_MAX_ITEMS, replace=False))]
    k = min(k, X.shape[0] - 1)
    S = sparse_view(X)
    counts = k_occurrence(X, k) if S is None else _sparse_k_occurrence(S, k)
    return float(stats.skew(counts)) if counts.std() > 0 else 0.0


def _sparse_k_occurrence(S, k: int) -> np.ndarray:
    """:func:`reprlearn.analysis.neighbors.k_occurrence` (cosine, self excluded) of the
    CSR rows ``S`` ``(n, dim)``, through :func:`sparse_nearest_neighbors`."""
    nb = sparse_nearest_neighbors(S, k)
    return np.bincount(nb.indices.ravel(), minlength=S.shape[0]).astype(np.int64)


def sparse_nearest_neighbors(
    S, k: int, queries: np.ndarray | None = None, chunk: int | None = None
) -> Neighbors:
    """:func:`reprlearn.analysis.neighbors.nearest_neighbors` (exact cosine, self excluded)
    for mostly-zero rows ``S`` ``(n, dim)`` (CSR, or an array :func:`sparse_view` takes),
    by :func:`reprlearn.evaluation.sparsity.sparse_cosine_topk` (also the kNN probe's
    sparse path). ``queries``: int ``(q,)`` rows (default all). Ties among equal cosines
    may be ordered otherwise."""
    S = sp.csr_matrix(S) if sp.issparse(S) else sparse_view(S)
    q_idx = np.arange(S.shape[0]) if queries is None else np.asarray(queries, dtype=np.int64)
    cos, idx = sparse_cosine_topk(S[q_idx], S, k, exclude=q_idx, chunk=chunk)
    return Neighbors(q_idx, idx, np.clip(cos, -1.0, 1.0))


def normalized_std(X: np.ndarray) -> float:
    """Mean over dimensions of the std of the L2-normalised rows (SimSiam's signal); for
    mostly-zero rows from the non-zeros (per-column mean and mean square, float64)."""
    if (U := unit_rows_sparse(X)) is not None:
        mean = np.asarray(U.mean(axis=0)).ravel()
        sq = np.asarray(U.multiply(U).mean(axis=0)).ravel()
        return float(np.sqrt(np.clip(sq - mean**2, 0.0, None)).mean())
    return float(l2_normalize(X).std(axis=0).mean())


def duplicate_rows(X: np.ndarray, sparse: sp.csr_matrix | None = None) -> int:
    """Number of rows of ``X`` ``(n, dim)`` that exactly repeat an earlier row (bitwise
    float32 equality).

    ``sparse``: the CSR view of ``X``'s rows, when the caller has one (TF-IDF). Rows equal
    bit for bit store the same entries, so rows are first grouped by their stored
    entries (cheap: a ten-word text stores ~12) and only rows of one group are compared
    bit for bit (a ``-0.0`` is not stored, so such rows share a group but stay distinct):
    the same count as sorting all rows, 0.17-0.86 -> ~0.02 s on 10,000 4,096-d rows."""
    X = np.ascontiguousarray(X, dtype=np.float32)
    if len(X) == 0:
        return 0
    if sparse is None:
        return _repeats(X)
    groups: dict[tuple[bytes, bytes], list[int]] = {}
    ptr, indices, data = sparse.indptr, sparse.indices, sparse.data
    for i in range(len(X)):
        a, b = ptr[i], ptr[i + 1]
        groups.setdefault((indices[a:b].tobytes(), data[a:b].tobytes()), []).append(i)
    return sum(_repeats(X[rows]) for rows in groups.values() if len(rows) > 1)


def _repeats(X: np.ndarray) -> int:
    """Rows of the contiguous float32 ``X`` that repeat an earlier one, bit for bit."""
    rows = X.view(np.dtype((np.void, X.dtype.itemsize * X.shape[1]))).ravel()
    return int(len(X) - len(np.unique(rows)))


@dataclass
class Geometry:
    """Label-free diagnostics of embeddings ``(n, dim)``; see the module doc for sources.

    ``status`` is one of ``healthy``, ``low-rank``, ``hubs``, ``anisotropic``,
    ``duplicated``, ``collapsed``, ``broken``, ``too-few``; ``verdict`` says it in words
    with the number behind it; ``warnings`` lists every other finding.
    """

    num_items: int
    dim: int
    finite_rows: int
    nan_rows: int
    inf_rows: int
    nan_values: int
    inf_values: int
    zero_rows: int
    duplicate_rows: int
    norm_mean: float
    norm_std: float
    norm_min: float
    norm_max: float
    effective_rank: float
    max_rank: int
    anisotropy: float
    uniformity: float
    uniformity_isotropic: float
    hubness: float
    hubness_k: int
    normalized_std: float
    normalized_std_isotropic: float
    status: str = ""
    verdict: str = ""
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            k: (None if isinstance(v, float) and not np.isfinite(v) else v)
            for k, v in asdict(self).items()
        }


def diagnose(
    X: np.ndarray,
    *,
    seed: int = 0,
    k: int = HUBNESS_K,
    neighbors: Neighbors | None = None,
    sparse: sp.csr_matrix | None = None,
) -> Geometry:
    """All label-free diagnostics of ``X`` ``(n, dim)`` and the verdict (:func:`verdict`).

    Args:
        X: embeddings ``(n, dim)``; rows with NaN/inf are counted, then dropped.
        seed: seed of the pair sample (uniformity) and item sample (hubness).
        k: neighbours for hubness (default 10).
        neighbors: the cosine neighbour graph of every row (``inspect`` computes it once
            for its neighbour lists, label agreement and hubness); used only when every
            row is finite (see :func:`hubness`).
        sparse: the CSR view of ``X`` (:func:`reprlearn.evaluation.sparsity.sparse_view`)
            when the caller has built it (``inspect``); used only when every row is
            finite, instead of building it again.
    """
    X = np.asarray(X, dtype=np.float32)
    n, dim = X.shape
    if np.isfinite(X).all():  # the usual case: no masks, no copy
        nan_mask = inf_mask = np.zeros((1, 1), dtype=bool)
        F = X
    else:
        nan_mask, inf_mask = np.isnan(X), np.isinf(X)
        F = X[~(nan_mask | inf_mask).any(axis=1)]
    m = len(F)
    norms = np.sqrt(np.einsum("ij,ij->i", F, F, dtype=np.float64)) if m else np.zeros(1)
    S = sparse if sparse is not None and m == n else sparse_view(F) if m else None
    A = F if S is None else S  # TF-IDF rows: one CSR view for all the measures below
    g = Geometry(
        num_items=n,
        dim=dim,
        finite_rows=m,
        nan_rows=int(nan_mask.any(axis=1).sum()),
        inf_rows=int(inf_mask.any(axis=1).sum()),
        nan_values=int(nan_mask.sum()),
        inf_values=int(inf_mask.sum()),
        zero_rows=int((norms == 0).sum()) if m else 0,
        duplicate_rows=duplicate_rows(F, S),
        norm_mean=float(norms.mean()),
        norm_std=float(norms.std()),
        norm_min=float(norms.min()),
        norm_max=float(norms.max()),
        effective_rank=effective_rank(A) if m else float("nan"),
        max_rank=min(m, dim),
        anisotropy=mean_cosine(A) if m > 1 else float("nan"),
        uniformity=uniformity(A, seed=seed) if m > 1 else float("nan"),
        uniformity_isotropic=sphere_uniformity(dim) if dim > 1 else float("nan"),
        hubness=hubness(A, k, seed=seed, neighbors=neighbors if m == n else None),
        hubness_k=k,
        normalized_std=normalized_std(A) if m else float("nan"),
        normalized_std_isotropic=float(1 / np.sqrt(dim)),
    )
    g.status, g.verdict, g.warnings = verdict(g)
    return g


def verdict(g: Geometry) -> tuple[str, str, list[str]]:
    """``(status, verdict, warnings)`` from the diagnostics, worst finding first.

    Thresholds, checked in this order (the first that holds is the verdict, the others
    become warnings):

    * broken: any row with NaN or inf;
    * too-few: fewer than 3 finite rows;
    * collapsed: effective rank < 2 (:data:`COLLAPSED_RANK`): the items lie on (nearly)
      one line, whatever their dimension;
    * duplicated: over half the rows repeat an earlier row exactly;
    * anisotropic: mean cosine > 0.5: the vectors crowd into a cone, so every cosine is
      high and only differences between cosines carry information (centre the
      embeddings before using cosine);
    * hubs: k-occurrence skewness > 5: a few items are among nearly everyone's nearest
      neighbours, which hurts kNN search (Radovanovic et al. 2010);
    * low-rank: effective rank < 2% of ``min(n, dim)`` (dimensional collapse: most
      dimensions carry no variance);
    * healthy otherwise.
    """
    found: list[tuple[str, str]] = []
    bad = g.num_items - g.finite_rows
    if bad:
        found.append(
            (
                "broken",
                f"{bad} of {g.num_items} rows contain NaN or inf "
                f"({g.nan_values} NaN, {g.inf_values} inf values)",
            )
        )
    if g.finite_rows < 3:
        found.append(("too-few", f"only {g.finite_rows} usable rows"))
        return found[0][0], _say(found[0]), [_say(f) for f in found[1:]]
    rank = f"effective rank {g.effective_rank:.1f} of {g.max_rank}"
    if g.effective_rank < COLLAPSED_RANK:
        found.append(("collapsed", rank))
    if g.duplicate_rows > DUPLICATED_SHARE * g.num_items:
        found.append(
            (
                "duplicated",
                f"{g.duplicate_rows} of {g.num_items} rows are exact copies of another row",
            )
        )
    elif g.duplicate_rows:
        found.append(("", f"{g.duplicate_rows} rows are exact copies of another row"))
    if g.anisotropy > ANISOTROPIC_COSINE:
        found.append(("anisotropic", f"mean cosine {g.anisotropy:.2f} (vectors crowd into a cone)"))
    if g.hubness > HUBNESS_SKEW:
        found.append(
            (
                "hubs",
                f"{g.hubness_k}-occurrence skewness {g.hubness:.1f} (a few "
                "items are everyone's nearest neighbours)",
            )
        )
    if COLLAPSED_RANK <= g.effective_rank < LOW_RANK_SHARE * g.max_rank:
        found.append(("low-rank", f"{rank} (most dimensions carry no variance)"))
    if not any(status for status, _ in found):
        found.insert(0, ("healthy", rank))
    found.sort(key=lambda f: not f[0])  # a finding with a status heads the list
    return found[0][0], _say(found[0]), [_say(f) for f in found[1:]]


def _say(finding: tuple[str, str]) -> str:
    status, text = finding
    return f"{status}: {text}" if status else text


def _pair_sq_distances(U: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """``||U[i] - U[j]||^2`` ``(len(i),)`` float64 for rows of ``U`` ``(n, dim)`` (dense, or
    CSR), as
    ``|u|^2 + |v|^2 - 2 u.v``: row products from a CSR view when ``U`` is mostly zeros,
    else chunked ``einsum`` (no ``(pairs, dim)`` difference array)."""
    S = U if hasattr(U, "tocsr") else sparse_view(U)
    if S is not None:
        sq = np.asarray(S.multiply(S).sum(1), dtype=np.float64).ravel()
    else:
        sq = np.einsum("ij,ij->i", U, U, dtype=np.float64)
    dots = np.empty(len(i), dtype=np.float64)
    for start in range(0, len(i), 8_192):
        a, b = i[start : start + 8_192], j[start : start + 8_192]
        if S is not None:
            dots[start : start + len(a)] = np.asarray(S[a].multiply(S[b]).sum(1)).ravel()
        else:
            dots[start : start + len(a)] = np.einsum("ij,ij->i", U[a], U[b], dtype=np.float64)
    return sq[i] + sq[j] - 2 * dots
