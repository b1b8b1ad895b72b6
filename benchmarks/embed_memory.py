"""Peak memory of ``reprlearn.embed`` as the dataset grows: flat from 10^4 to 10^5 images.

Data: the real CIFAR-10 training split (``../shared/data/cifar10/train.parquet``, 50,000
32x32 JPEGs), repeated to reach N rows (``datasets.concatenate_datasets``, memory-mapped
Arrow, no copy). Each (encoder, N) runs ``embed`` in a fresh subprocess and reports:

* ``peak_rss_mb``: ``resource.getrusage(RUSAGE_SELF).ru_maxrss`` (includes the Arrow file
  pages the process touched, which the kernel may drop at any time);
* ``peak_anon_mb``: the peak of ``RssAnon`` (heap: what cannot be dropped), sampled from
  ``/proc/self/status`` every 20 ms.

``--baseline`` adds the behaviour before the bounded fit (fitting ``pca:D`` on every row,
``fit_max_items`` = N) and prints the ratio bounded / all-rows for the same N, measured in
the same run. Budget: about 1.5 minutes for the defaults (pca:32 at 10^4 and 10^5) and
about 6 minutes with ``--baseline`` (its all-rows fit at 10^5 takes ~4 GB and ~3 minutes)
on 2 shared cores. Usage::

    python benchmarks/embed_memory.py [--sizes 10000,100000] [--encoders pca:32,pixels] [--baseline]

Prints one JSON line per run, then one per ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from peak_memory import last_json, run_child

SHARED = Path(
    os.environ.get(
        "REPRLEARN_SHARED_DATA", Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
    )
)

_CHILD = r"""
import tempfile
n, name, fit_all, parquet = int(sys.argv[1]), sys.argv[2], sys.argv[3] == "1", sys.argv[4]
import datasets
datasets.disable_progress_bars()
from reprlearn.data.images import load_image_parquet
from reprlearn.embed import embed
import reprlearn.fitting
if fit_all:
    reprlearn.fitting.FIT_MAX_ITEMS = n
base = load_image_parquet(parquet)
ds = datasets.concatenate_datasets([base] * (n // len(base) + 1)).select(range(n))
start = time.perf_counter()
with tempfile.TemporaryDirectory() as out:
    store = embed(ds, name, out + "/s", progress=False)
    fit = store.manifest.get("fit")
report(encoder=name, n=n, fit="all rows" if fit_all else "bounded",
       fit_items=(fit or {}).get("n_items"), seconds=round(time.perf_counter() - start, 1))
"""


def run(n: int, encoder: str, fit_all: bool, parquet: Path) -> dict:
    out = run_child(_CHILD, n, encoder, "1" if fit_all else "0", parquet)
    out.check_returncode()
    return last_json(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--encoders", default="pca:32")
    parser.add_argument("--baseline", action="store_true", help="also fit on all rows")
    args = parser.parse_args()
    parquet = SHARED / "cifar10" / "train.parquet"
    if not parquet.is_file():
        sys.exit(f"needs {parquet} (set REPRLEARN_SHARED_DATA)")
    sizes = [int(s) for s in args.sizes.split(",")]
    for encoder in args.encoders.split(","):
        results = {}
        for n in sizes:
            results[n] = run(n, encoder, False, parquet)
            print(json.dumps(results[n]), flush=True)
            if args.baseline and encoder != "pixels":
                full = run(n, encoder, True, parquet)
                print(json.dumps(full), flush=True)
                print(json.dumps({"encoder": encoder, "n": n,
                                  "anon_ratio_bounded_vs_all_rows":
                                  round(results[n]["peak_anon_mb"] / full["peak_anon_mb"], 3)}))  # fmt: skip
        lo, hi = results[sizes[0]], results[sizes[-1]]
        print(json.dumps({"encoder": encoder, "growth": f"{sizes[0]} -> {sizes[-1]} rows",
                          "peak_anon_ratio": round(hi["peak_anon_mb"] / lo["peak_anon_mb"], 3),
                          "peak_rss_ratio": round(hi["peak_rss_mb"] / lo["peak_rss_mb"], 3)}))  # fmt: skip


if __name__ == "__main__":
    main()
