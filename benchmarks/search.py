"""Index, search, duplicates and explore on real and synthetic stores.

For each store: ``build_index(kind="auto")`` (autofaiss rule; build time, bytes per
vector, recall@10 against exact search on 1,000 held-out queries, the query item left
out), then queries/s for 1,000 queries (k=10, one batch) through the FAISS index,
through exact torch search (all vectors in memory, chunked matmul + topk) and through
scikit-learn ``NearestNeighbors(algorithm="brute", metric="cosine")``, measured in the
same run. Optionally: end-to-end latency of a text query (``reprlearn.search``: rebuild
the encoder, embed, search), train-vs-test leakage (``find_leakage``, contact sheet),
and explore's time to interactive (table + site build, then headless Chromium until
the page says it is ready).

Synthetic vectors: a mixture of 1,000 Gaussian clusters in ``--dim`` dimensions,
L2-normalised (real embedding sets are clustered; uniform noise is not a fair test of
an ANN index), written as a store shard by shard.

Prints one JSON line per measurement. Budget: a 10^6 x 384 synthetic store needs
~1.6 GB on disk and ~2 GB RAM for the HNSW index; HNSW's build dominates (minutes on
16 cores, much longer on 2).

    python benchmarks/search.py --stores emb/sst2-minilm emb/cifar-train \
        --synthetic 1000000 --text-store emb/sst2-minilm \
        --leakage emb/cifar-train emb/cifar-test --explore emb/sst2-minilm --out bench-out
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from reprlearn.search.index import build_index, load_index
from reprlearn.store import EmbeddingStore, StoreWriter

K = 10
QUERIES = 1_000


def emit(**row) -> None:
    print(json.dumps(row), flush=True)


def synthetic_store(
    path: Path, n: int, dim: int, seed: int = 0, shard: int = 65_536
) -> EmbeddingStore:
    """``n`` unit vectors from 1,000 Gaussian clusters (spread 0.6 around unit centres)."""
    if (path / "manifest.json").is_file():
        return EmbeddingStore.open(path)
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(1000, dim)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    header = {"encoder_name": f"synthetic:{dim}", "normalized": True, "shard_size": shard}
    w = StoreWriter(path, header)
    for i, lo in enumerate(range(0, n, shard)):
        m = min(shard, n - lo)
        X = centres[rng.integers(0, 1000, m)] + 0.6 / np.sqrt(dim) * rng.normal(
            size=(m, dim)
        ).astype(np.float32)
        X /= np.linalg.norm(X, axis=1, keepdims=True)
        w.write_shard(i, np.arange(lo, lo + m), X, None, [])
    return w.finish(
        {"dim": dim, "encoder": {"name": header["encoder_name"], "modality": "text", "dim": dim}}
    )


def torch_exact_qps(X: np.ndarray, Q: np.ndarray) -> float:
    Xt, Qt = torch.from_numpy(X), torch.from_numpy(Q)
    start = time.perf_counter()
    with torch.inference_mode():
        for lo in range(0, len(Qt), 250):
            torch.topk(Qt[lo : lo + 250] @ Xt.T, K, dim=1)
    return len(Q) / (time.perf_counter() - start)


def sklearn_qps(X: np.ndarray, Q: np.ndarray) -> float:
    from sklearn.neighbors import NearestNeighbors

    nn = NearestNeighbors(n_neighbors=K, algorithm="brute", metric="cosine").fit(X)
    start = time.perf_counter()
    nn.kneighbors(Q)
    return len(Q) / (time.perf_counter() - start)


def bench_index(
    store: EmbeddingStore, name: str, skip_sklearn: bool, max_memory: str | None = None
) -> None:
    info = build_index(store, kind="auto", max_memory=max_memory, overwrite=True)
    index = load_index(store)
    X, _ = store.to_numpy()
    X = X / np.maximum(np.linalg.norm(X, axis=1, keepdims=True), 1e-12)
    Q = X[np.random.default_rng(1).choice(len(X), QUERIES, replace=False)]
    index.search(Q[:10], K)  # warm-up
    start = time.perf_counter()
    index.search(Q, K)
    qps = QUERIES / (time.perf_counter() - start)
    qps_torch = torch_exact_qps(X, Q)
    qps_sk = None if skip_sklearn else sklearn_qps(X, Q)
    emit(bench="index", store=name, n=len(X), dim=int(X.shape[1]), kind=info.kind,
         factory=info.factory, search_params=info.search_params, build_s=info.build_seconds,
         bytes_per_vector=info.bytes_per_vector, recall_at_10=info.recall_at_10,
         qps_index=round(qps, 1), qps_torch_exact=round(qps_torch, 1),
         qps_sklearn=None if qps_sk is None else round(qps_sk, 1),
         speedup_vs_torch=round(qps / qps_torch, 2),
         speedup_vs_sklearn=None if qps_sk is None else round(qps / qps_sk, 2),
         max_memory=info.max_memory, threads=torch.get_num_threads())  # fmt: skip


def bench_text_query(store: Path, query: str) -> None:
    from reprlearn.search.query import search

    times = []
    for _ in range(3):
        start = time.perf_counter()
        result = search(store, query, K)
        times.append(time.perf_counter() - start)
    emit(bench="text_query", store=str(store), query=query, method=result.method,
         first_ms=round(times[0] * 1000, 1), warm_ms=round(min(times[1:]) * 1000, 1),
         top=[r.get("text") for r in result.results[:3]])  # fmt: skip


def bench_leakage(train: Path, test: Path, out: Path, threshold: float) -> None:
    from reprlearn.search.leakage import find_leakage

    start = time.perf_counter()
    leak = find_leakage(train, test, out / "leakage", threshold=threshold, overwrite=True)
    emit(bench="leakage", train=str(train), test=str(test), threshold=threshold,
         num_test=leak.num_other, num_leaked=leak.num_leaked,
         probe_accuracy_all=leak.accuracy_all, probe_accuracy_without_leaked=leak.accuracy_clean,
         seconds=round(time.perf_counter() - start, 1), sheet=leak.files.get("leakage.png"))  # fmt: skip


def bench_explore(store: Path, out: Path) -> None:
    import shutil

    from reprlearn.explore.launch import explore, serve

    start = time.perf_counter()
    site = explore([store], export=out / "site", overwrite=True)
    built = time.perf_counter() - start
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    ready = None
    if chromium:
        from playwright.sync_api import sync_playwright

        server = serve(site.site)
        with sync_playwright() as p:
            b = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
            page = b.new_page(viewport={"width": 1200, "height": 800})
            t = time.perf_counter()
            page.goto(f"http://127.0.0.1:{server.server_address[1]}/")
            page.wait_for_selector("body[data-ready='1']", timeout=300_000)
            ready = time.perf_counter() - t
            page.screenshot(path=str(out / "explore.png"))
            b.close()
        server.shutdown()
    size = sum(f.stat().st_size for f in site.site.iterdir())
    emit(bench="explore", store=str(store), rows=site.rows, build_s=round(built, 1),
         page_interactive_s=None if ready is None else round(ready, 2), site_mb=round(size / 2**20, 1))  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--stores", nargs="*", default=[], type=Path)
    ap.add_argument(
        "--synthetic", type=int, default=0, help="vectors of a synthetic store (0: none)"
    )
    ap.add_argument("--dim", type=int, default=384)
    ap.add_argument("--skip-sklearn", action="store_true")
    ap.add_argument("--max-memory", help="index memory budget (e.g. 256M: auto then picks IVF-PQ)")
    ap.add_argument("--text-store", type=Path)
    ap.add_argument("--query", default="a warm, funny film about family")
    ap.add_argument("--leakage", nargs=2, type=Path, metavar=("TRAIN", "TEST"))
    ap.add_argument("--threshold", type=float, default=0.95)
    ap.add_argument("--explore", type=Path)
    ap.add_argument("--out", type=Path, default=Path(tempfile.mkdtemp(prefix="bench-search-")))
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for path in args.stores:
        bench_index(EmbeddingStore.open(path), path.name, args.skip_sklearn, args.max_memory)
    if args.synthetic:
        store = synthetic_store(args.out / f"synthetic-{args.synthetic}", args.synthetic, args.dim)
        bench_index(
            store, f"synthetic-{args.synthetic}x{args.dim}", args.skip_sklearn, args.max_memory
        )
    if args.text_store:
        bench_text_query(args.text_store, args.query)
    if args.leakage:
        bench_leakage(*args.leakage, args.out, args.threshold)
    if args.explore:
        bench_explore(args.explore, args.out)


if __name__ == "__main__":
    main()
