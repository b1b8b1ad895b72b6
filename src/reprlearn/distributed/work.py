"""The work of a Ray embedding run: the store's pending shards cut into chunks.

A chunk is a run of consecutive source rows inside one shard (``shard``, ``lo``,
``rows``). A shard is one chunk when there are enough pending shards to keep every
actor busy; otherwise shards are cut into chunks of a multiple of ``batch_size`` rows, so
a small collection still spreads over all actors. The driver writes a shard once all of
its chunks are back, so the unit of resumption stays the shard.
"""

from __future__ import annotations

import math


def plan_chunks(
    pending: dict[int, tuple[int, int]], batch_size: int, actors: int
) -> list[dict[str, int]]:
    """Chunks ``{"shard", "lo", "rows"}`` covering every pending shard's rows exactly once,
    in row order.

    Args:
        pending: shard index -> (first source row, number of rows), shards not yet written.
        batch_size: rows per forward pass; chunks are multiples of it (but the last of a
            shard).
        actors: size of the actor pool; aim for at least two chunks per actor.
    """
    if not pending:
        return []
    total = sum(rows for _, rows in pending.values())
    want = max(1, math.ceil(total / (2 * actors)))
    size = max(batch_size, math.ceil(want / batch_size) * batch_size)
    chunks = []
    for shard, (lo, rows) in sorted(pending.items()):
        step = rows if len(pending) >= 2 * actors else min(rows, size)
        for start in range(lo, lo + rows, step):
            chunks.append({"shard": shard, "lo": start, "rows": min(step, lo + rows - start)})
    return chunks
