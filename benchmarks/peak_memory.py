"""Peak memory of a child process, for the memory benchmarks (``scale.py``, ``embed_memory.py``).

:data:`WATCH` is Python source that a benchmark puts before its child's code: it samples
``RssAnon`` (heap: what the kernel cannot drop) from ``/proc/self/status`` every 20 ms and
defines ``report(**facts)``, which prints ``facts`` as one JSON line with

* ``peak_rss_mb``: ``resource.getrusage(RUSAGE_SELF).ru_maxrss`` (includes file pages the
  process touched, e.g. memory-mapped Arrow, which the kernel may drop at any time);
* ``peak_anon_mb``: the peak of the sampled ``RssAnon``.

:func:`run_child` runs ``WATCH + code`` in a fresh interpreter and returns that line.
"""

from __future__ import annotations

import json
import subprocess
import sys

WATCH = r"""
import json, resource, sys, threading, time
peak = {"anon": 0}
def watch():
    while True:
        for line in open("/proc/self/status"):
            if line.startswith("RssAnon:"):
                peak["anon"] = max(peak["anon"], int(line.split()[1]))
        time.sleep(0.02)
threading.Thread(target=watch, daemon=True).start()
def report(**facts):
    time.sleep(0.05)
    facts["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    facts["peak_anon_mb"] = round(peak["anon"] / 1024)
    print(json.dumps(facts))
"""


def run_child(code: str, *args: object) -> subprocess.CompletedProcess:
    """Run ``WATCH + code`` with ``args`` as ``sys.argv[1:]`` (output captured, not checked)."""
    return subprocess.run([sys.executable, "-c", WATCH + code, *map(str, args)],
                          capture_output=True, text=True)  # fmt: skip


def last_json(done: subprocess.CompletedProcess) -> dict:
    """The child's ``report`` line."""
    return json.loads(done.stdout.strip().splitlines()[-1])
