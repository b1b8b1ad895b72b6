"""Peak memory of ``embed``, ``index`` and ``probe`` at 10^5 / 10^6 / 10^7 rows (issue 13).

Each measurement runs in a fresh subprocess and reports ``peak_rss_mb``
(``resource.getrusage(RUSAGE_SELF).ru_maxrss``: it includes file pages the process
touched, e.g. memory-mapped index parts, which the kernel may drop) and ``peak_anon_mb``
(the peak of ``RssAnon`` from ``/proc/self/status`` sampled every 20 ms: heap, what
cannot be dropped), with the wall time.

Operations (``--ops``):

* ``embed``: ``reprlearn.embed`` of a synthetic Parquet text table of N rows (short
  sentences drawn from a 2,000-word vocabulary with a label column) with ``lsa:D``
  (TF-IDF + truncated SVD, fitted on a bounded sample): the embed loop itself.
  Expected: flat in N.
* ``index``: ``build_index(kind="ivf-pq")`` (one index file, grows with N by its
  ~D/4+8 bytes per vector of PQ codes and ids) and ``index-sharded``
  (``part_rows=--part-rows``: one part in memory while building).
* ``probe``: ``probe(protocol="knn")`` and ``"linear"`` with ``max_rows=--max-rows``:
  a seeded sample is streamed in, so flat in N.
* ``load-all``: the reference: ``EmbeddingStore.to_numpy()`` of every row (what probe
  and inspect did before issue 13), linear in N; ratios bounded / load-all are printed
  for the same N, measured in the same run.

Data: synthetic stores (``StoreWriter``, float32 vectors of ``--dim`` around 10
labelled centres, shards of 100,000 rows) generated once under ``--work`` and reused;
10^7 rows at dim 64 take 2.5 GiB on disk. Budget on this 2-core shared machine
(measured 2026-11-26): about 31 minutes for embed at 10^4 + 10^5 and every op at 10^5 +
10^6 (an index build: 1.5 min at 10^5, 6-8 min at 10^6); 10^7 adds about 12 minutes for
the store, load-all (8.4 GB of RAM) and the probes, and over 25 minutes per index build
(pass ``--ops load-all,probe-knn,probe-linear`` to leave those out). Usage::

    python benchmarks/scale.py [--sizes 100000,1000000,10000000] [--dim 64]
        [--ops embed,index,index-sharded,probe-knn,probe-linear,load-all]
        [--embed-sizes 10000,100000] [--work /tmp/reprlearn-scale]

Prints one JSON line per measurement, then one per ratio.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from peak_memory import last_json, run_child

SHARD = 100_000
CLASSES = 10

_CHILD = {
    "embed": r"""
import tempfile
import datasets
datasets.disable_progress_bars()
from reprlearn.data import load_dataset
from reprlearn.embed import embed
n, table, dim = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
ds = load_dataset(table)
start = time.perf_counter()
with tempfile.TemporaryDirectory(dir=sys.argv[4]) as out:
    store = embed(ds, f"lsa:{dim}", out + "/s", progress=False)
    rows = store.manifest["counts"]["embedded"]
report(op="embed", n=n, encoder=f"lsa:{dim}", rows=rows,
       seconds=round(time.perf_counter() - start, 1))
""",
    "index": r"""
import faiss
from reprlearn.search.index import build_index
n, store, part_rows = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
start = time.perf_counter()
info = build_index(store, kind="ivf-pq", max_memory="8G", overwrite=True,
                   part_rows=part_rows or None)
report(op="index-sharded" if part_rows else "index", n=n, factory=info.factory,
       parts=len(info.parts), bytes_per_vector=info.bytes_per_vector,
       recall_at_10=info.recall_at_10, search_params=info.search_params,
       seconds=round(time.perf_counter() - start, 1))
""",
    "probe": r"""
from reprlearn.evaluation.probe import probe
n, store, protocol, max_rows = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
start = time.perf_counter()
result = probe(store, protocol, max_rows=max_rows, confusion=False)
score = result.summary()[0][2]
report(op=f"probe-{protocol}", n=n, max_rows=max_rows, loaded=result.loaded["store"]["rows"],
       accuracy=round(float(score.value), 4), seconds=round(time.perf_counter() - start, 1))
""",
    "load-all": r"""
from reprlearn.store import EmbeddingStore
n, store = int(sys.argv[1]), sys.argv[2]
start = time.perf_counter()
X, y = EmbeddingStore.open(store).to_numpy()
report(op="load-all", n=n, rows=len(X), seconds=round(time.perf_counter() - start, 1))
""",
}


def synthetic_store(path: Path, n: int, dim: int) -> Path:
    """A labelled store of ``n`` float32 vectors around 10 centres (seeded), reused."""
    from reprlearn.store import EmbeddingStore, StoreWriter

    if (path / "manifest.json").is_file():
        return path
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(CLASSES, dim)).astype(np.float32)
    header = {"encoder_name": "synthetic", "normalized": False, "shard_size": SHARD}
    with StoreWriter(path, header) as writer:
        for i, lo in enumerate(range(0, n, SHARD)):
            m = min(SHARD, n - lo)
            y = rng.integers(0, CLASSES, m)
            X = centres[y] + 1.5 * rng.normal(size=(m, dim)).astype(np.float32)
            writer.write_shard(i, np.arange(lo, lo + m), X, y, [])
        writer.finish(
            {
                "dim": dim,
                "label_names": [f"c{c}" for c in range(CLASSES)],
                "encoder": {"name": "synthetic", "modality": "text", "dim": dim},
            }
        )
    EmbeddingStore.open(path)
    return path


def synthetic_texts(path: Path, n: int) -> Path:
    """A Parquet table of ``n`` short labelled sentences (seeded), written in chunks."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if path.is_file():
        return path
    rng = np.random.default_rng(0)
    words = np.array([f"w{i}" for i in range(2_000)])
    tmp = path.with_name(f".{path.name}.tmp")
    schema = pa.schema([("text", pa.string()), ("label", pa.string())])
    with pq.ParquetWriter(tmp, schema) as writer:
        for lo in range(0, n, SHARD):
            m = min(SHARD, n - lo)
            y = rng.integers(0, CLASSES, m)
            picks = (rng.zipf(1.3, size=(m, 12)) + 150 * y[:, None]) % len(words)
            texts = [" ".join(row) for row in words[picks]]
            labels = [f"c{c}" for c in y]
            writer.write_table(pa.table({"text": texts, "label": labels}, schema=schema))
    tmp.replace(path)
    return path


def run(op: str, *args: str) -> dict:
    child = _CHILD["index" if op.startswith("index") else "probe" if op == "probe" else op]
    out = run_child(child, *args)
    if out.returncode != 0:
        return {"op": op, "n": int(args[0]), "error": out.stderr.strip().splitlines()[-1]}
    return last_json(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000,10000000")
    parser.add_argument("--embed-sizes", default="10000,100000")
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument(
        "--ops", default="embed,index,index-sharded,probe-knn,probe-linear,load-all"
    )
    parser.add_argument("--part-rows", type=int, default=1_000_000)
    parser.add_argument("--max-rows", type=int, default=100_000)
    parser.add_argument("--work", default="/tmp/reprlearn-scale")
    args = parser.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    ops = args.ops.split(",")
    results: list[dict] = []

    def emit(row: dict) -> None:
        results.append(row)
        print(json.dumps(row), flush=True)

    if "embed" in ops:
        for n in map(int, args.embed_sizes.split(",")):
            table = synthetic_texts(work / f"texts-{n}.parquet", n)
            emit(run("embed", n, table, args.dim, work))
    for n in map(int, args.sizes.split(",")):
        store = synthetic_store(work / f"store-{n}-d{args.dim}", n, args.dim)
        if "load-all" in ops:
            emit(run("load-all", n, store))
        for protocol in ("knn", "linear"):
            if f"probe-{protocol}" in ops:
                emit(run("probe", n, store, protocol, args.max_rows))
        if "index" in ops:
            emit(run("index", n, store, 0))
        if "index-sharded" in ops:
            emit(run("index-sharded", n, store, min(args.part_rows, max(1, n // 4))))
    by = {(r["op"], r["n"]): r for r in results if "peak_rss_mb" in r}
    for (op, n), r in sorted(by.items()):
        ref = by.get(("load-all", n))
        if ref and op != "load-all":
            print(json.dumps({"ratio": f"{op} / load-all", "n": n,
                              "peak_anon": round(r["peak_anon_mb"] / ref["peak_anon_mb"], 3),
                              "peak_rss": round(r["peak_rss_mb"] / ref["peak_rss_mb"], 3)}))  # fmt: skip
    for op in sorted({o for o, _ in by}):
        sizes = sorted(n for o, n in by if o == op)
        if len(sizes) > 1:
            lo, hi = by[(op, sizes[0])], by[(op, sizes[-1])]
            print(json.dumps({"growth": op, "from_n": sizes[0], "to_n": sizes[-1],
                              "peak_anon": round(hi["peak_anon_mb"] / lo["peak_anon_mb"], 2)}))  # fmt: skip


if __name__ == "__main__":
    main()
