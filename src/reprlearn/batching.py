"""The batching loop of :func:`reprlearn.embed`: raw items of one shard -> float32 vectors.

Items are decoded (and preprocessed, for neural encoders) in DataLoader workers, texts
are sorted by token length and cut into batches by a **token budget** (padded tokens
per batch, :func:`token_batches`), so short and long texts both run at large GEMM sizes;
texts are tokenised in a producer thread while the previous batch runs
(:func:`prefetched`). Batches run on the encoder's device and precision, and the vectors
go back to input order. Bad items raise (naming their row) or are skipped and listed, as
the run's ``on_error`` asks.
"""

from __future__ import annotations

import contextlib
import os
import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader

from reprlearn.data.items import BadItem, decode_item, failure_reason
from reprlearn.encoders.base import Encoder, TorchEncoder
from reprlearn.encoders.onednn_fusion import fused_linears
from reprlearn.encoders.short_attention import short_attention
from reprlearn.errors import DataError
from reprlearn.thread_tuner import ThreadTuner, batch_work, thread_candidates


@dataclass(frozen=True)
class Run:
    """Settings of one embedding run."""

    encoder: Encoder
    batch_size: int
    num_workers: int
    on_error: str
    normalize: bool
    describe: Callable[[int], str]
    # texts: padded tokens per batch ("auto": token_budget(lengths)); None = batch_size items
    token_budget: int | str | None = None


# Padded tokens per batch for texts on the CPU. MiniLM bf16 on 2 cores (32-token texts,
# forward only, one thread, other jobs running): 383 / 431 / 467 / 448 / 355 / 362 texts/s
# at 512 / 1,024 / 2,048 / 4,096 / 8,192 / 16,384 tokens per batch: past a few thousand
# tokens the activations (tokens x 1,536 bf16 in the MLP) leave the 2 MB L2 cache and the
# elementwise ops (GELU, LayerNorm, bias adds: half the forward's time) slow down. End to
# end (benchmarks/embed_text.py, 500 texts, 3 rounds) 4,096 ran 1.7-1.8x the texts/s of
# 16,384 on SST2 and SUBJ; more batches also let the ThreadTuner settle.
TOKEN_BUDGET = 4096
MAX_BATCH_ITEMS = 1024  # cap for very short texts (a batch of 1-token items)
# Padding a batch may carry before a new batch is started (None: no limit). Measured on
# 2 shared cores (load ~13): one TREC batch padded 3.2x ran 36 sentences/s, the same
# texts cut at 4,096 padding tokens (2 batches, 1.8x) 27/s: a forward pass has a fixed
# cost (hundreds of small ops, each a thread barrier) that outweighs padding there.
MAX_PADDING_TOKENS: int | None = None
ATTENTION_CELLS = 2**24  # items x tokens^2 per batch: bounds the attention scores' memory
# Per device type: (padded tokens per batch, items per batch at most, attention cells at
# most). A GPU needs far larger batches than 2 CPU cores to keep its SMs busy; its
# values are set from benchmarks/embed_text.py --device cuda --budgets (see there).
BUDGETS: dict[str, tuple[int, int, int]] = {
    "cpu": (TOKEN_BUDGET, MAX_BATCH_ITEMS, ATTENTION_CELLS),
    "cuda": (65536, 4096, 2**26),
}


def token_budget(lengths: np.ndarray, device_type: str = "cpu") -> int:
    """Padded tokens per batch for texts of token counts ``lengths`` (``(n,)`` ints).

    The device type's budget in :data:`BUDGETS` (CPU: 4,096 tokens, so short texts run
    in batches of up to 1,024 items and long ones in fewer; CUDA: 65,536 tokens, up to
    4,096 items), lowered for long texts so a batch's attention scores (items x tokens^2
    per head) stay under the device's attention cells (judged at the 95th percentile
    length), and never below the longest text (one item per batch at worst). Device
    types without an entry (``mps``) use the CPU values.
    """
    budget, _, cells = BUDGETS.get(device_type, BUDGETS["cpu"])
    if len(lengths) == 0:
        return budget
    lengths = np.maximum(np.asarray(lengths, dtype=np.int64), 1)
    typical = int(np.percentile(lengths, 95))
    return int(max(int(lengths.max()), min(budget, cells // typical)))


def max_batch_items(device_type: str = "cpu") -> int:
    """Items per token-budget batch at most on ``device_type`` (:data:`BUDGETS`)."""
    return BUDGETS.get(device_type, BUDGETS["cpu"])[1]


def token_batches(
    lengths: np.ndarray,
    budget: int,
    max_items: int = MAX_BATCH_ITEMS,
    max_padding: int | None = MAX_PADDING_TOKENS,
) -> list[list[int]]:
    """Index batches of texts by a token budget (fairseq's ``batch_by_size`` idea): texts
    sorted longest first; a batch takes the next text while its padded tokens (items x
    its longest item) stay within ``budget``, it has fewer than ``max_items`` items, and
    its padding (padded - real tokens) stays within ``max_padding`` when one is given (a
    new batch costs a fixed amount; on a machine where that is small, a limit keeps a
    long tail from padding hundreds of short texts to its length).

    Args:
        lengths: ``(n,)`` token counts (the sort keys); 0 counts as 1.
        budget: padded tokens per batch, >= 1.
        max_items: items per batch at most.
        max_padding: padding tokens per batch at most (None: no limit).

    Returns:
        Lists of row positions covering ``range(n)`` once; within a batch lengths fall
        (the order is a stable sort by length, descending).
    """
    lengths = np.maximum(np.asarray(lengths, dtype=np.int64), 1)
    order = np.argsort(-lengths, kind="stable")
    ordered = lengths[order].tolist()
    limit = float("inf") if max_padding is None else max_padding
    batches: list[list[int]] = []
    start, n = 0, len(order)
    while start < n:
        longest = ordered[start]  # sorted: the batch's first item pads it
        end, padding = start + 1, 0
        while end < n and end - start < max_items and (end - start + 1) * longest <= budget:
            padding += longest - ordered[end]
            if padding > limit:
                break
            end += 1
        batches.append(order[start:end].tolist())
        start = end
    return batches


def prefetched(items: Iterable[Any], depth: int = 2) -> Iterator[Any]:
    """Iterate ``items`` in a producer thread, ``depth`` elements ahead of the consumer.

    The text path's DataLoader runs in the main process (``num_workers=0``: the tokenizer
    is fast and pickling the model into workers is not), so its collate (the fast
    tokenizer, which releases the GIL) runs here while the caller's forward pass (which
    releases it too) runs on the previous batch. Exceptions of the producer are raised
    in the consumer; closing the generator early stops the producer.
    """
    box: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(entry: tuple[str, Any]) -> bool:
        while not stop.is_set():
            try:
                box.put(entry, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put(("item", item)):
                    return
            put(("done", None))
        except BaseException as e:  # handed to the consumer, raised there
            put(("error", e))

    thread = threading.Thread(target=produce, name="reprlearn-tokenize", daemon=True)
    thread.start()
    try:
        while True:
            kind, value = box.get()
            if kind == "done":
                return
            if kind == "error":
                raise value
            yield value
    finally:
        stop.set()
        thread.join(timeout=5)


def physical_cores() -> int:
    """Physical CPU cores (``psutil``; the logical count when unknown)."""
    import psutil

    return psutil.cpu_count(logical=False) or os.cpu_count() or 1


def torch_threads(encoder: Encoder | None = None) -> int:
    """Intra-op threads of the manifest's ``timing.threads``: the count ``encoder``'s
    batches ran on last when a CPU thread tuner chose it (:func:`thread_tuner`; the count
    is restored afterwards), else torch's count now."""
    if encoder is not None:
        for key, tuner in _TUNERS.items():
            if key[:2] == _tuner_model(encoder):
                return tuner.chosen
    return torch.get_num_threads()


def check_threads() -> int:
    """Set torch's intra-op threads to the physical cores (hyper-threads slow GEMMs down),
    unless the user chose a count with ``OMP_NUM_THREADS``; returns the count in use."""
    if "OMP_NUM_THREADS" not in os.environ:
        cores = physical_cores()
        if torch.get_num_threads() != cores:
            torch.set_num_threads(cores)
    return torch.get_num_threads()


def default_batch_size(encoder: Encoder) -> int:
    if not isinstance(encoder, TorchEncoder):
        return 4096
    # texts: batches are length-sorted, so large ones pad little and run bigger GEMMs
    return 256 if encoder.modality == "text" else 128


def default_workers(encoder: Encoder) -> int:
    """DataLoader worker processes: images, half the cores (at most 8) decode and
    preprocess; texts, none on the CPU (a producer thread tokenises: processes would take
    the cores the forward pass needs) and a quarter of the cores (at most 4) on a GPU,
    where tokenising in one thread bounded throughput (see :func:`_encode_tokenized`)."""
    if not isinstance(encoder, TorchEncoder):
        return 0
    cpus = os.cpu_count() or 2
    if encoder.modality == "text":
        gpu = device_type(encoder) == "cuda"
        return min(4, cpus // 4) if gpu else 0
    return max(1, min(8, cpus // 2))


class _Prepare:
    """Picklable raw item -> the decoded item (PIL image or string), preprocessed by a
    neural encoder (``preprocess``); raises on a bad item (:func:`decode_item`)."""

    def __init__(self, encoder: Encoder) -> None:
        self.encoder = encoder

    def __call__(self, item: Any) -> Any:
        value = decode_item(item, self.encoder.modality)
        return self.encoder.preprocess(value) if isinstance(self.encoder, TorchEncoder) else value


class _Rows(torch.utils.data.Dataset):
    """Raw items of some rows -> (row id, prepared item or BadItem), in DataLoader workers."""

    def __init__(self, raw: Sequence[Any], ids: np.ndarray, prepare: Callable[[Any], Any]) -> None:
        self.raw, self.ids, self.prepare = raw, ids, prepare

    def __len__(self) -> int:
        return len(self.raw)

    def __getitem__(self, j: int) -> tuple[int, Any]:
        try:
            return int(self.ids[j]), self.prepare(self.raw[j])
        except Exception as e:  # a corrupt image, an empty text: judged in the main process
            return int(self.ids[j]), BadItem(failure_reason(e))


class _Collate:
    """Splits good items from bad ones and collates the good ones (runs in workers)."""

    def __init__(self, collate: Callable[[list[Any]], Any] | None) -> None:
        self.collate = collate

    def __call__(self, batch: list[tuple[int, Any]]):
        good = [(i, x) for i, x in batch if not isinstance(x, BadItem)]
        bad = [(i, x) for i, x in batch if isinstance(x, BadItem)]
        items = [x for _, x in good]
        collated = self.collate(items) if (self.collate and items) else items
        return [i for i, _ in good], collated, bad


class _Closable:
    """``close()`` for an iterator that may lack one (stops a producer thread on errors)."""

    def __init__(self, it: Any) -> None:
        self.it = it

    def close(self) -> None:
        close = getattr(self.it, "close", None)
        if close is not None:
            close()


def device_type(encoder: Encoder) -> str:
    """``"cpu"``, ``"cuda"`` or ``"mps"``: where ``encoder`` runs (classical encoders: the
    CPU)."""
    return getattr(getattr(encoder, "device", None), "type", "cpu")


def _is_text(encoder: Encoder) -> bool:
    return isinstance(encoder, TorchEncoder) and encoder.modality == "text"


def _batches(encoder: Encoder, raw: Sequence[Any], run: Run) -> list[list[int]]:
    """Index batches of ``batch_size`` items; texts (of encoders that do not count tokens:
    those that do run :func:`_encode_tokenized`) sorted by their ``length``, longest
    first, so batches pad little; non-strings (bad items) count 0."""
    order = np.arange(len(raw))
    if _is_text(encoder):
        lengths = [encoder.length(x) if isinstance(x, str) else 0 for x in raw]
        order = np.argsort(-np.asarray(lengths, dtype=np.int64), kind="stable")
    size = run.batch_size
    return [order[s : s + size].tolist() for s in range(0, len(raw), size)]


def encode_rows(raw: Sequence[Any], ids: np.ndarray, run: Run, advance: Callable[[int], None]):
    """Embed ``raw`` items; returns (kept ids in input order, float32 (n, dim), skipped)."""
    enc = run.encoder
    if _is_text(enc) and hasattr(enc, "lengths"):
        return _finish(*_encode_tokenized(raw, ids, run, advance), run)
    neural = isinstance(enc, TorchEncoder)
    loader = DataLoader(
        _Rows(raw, ids, _Prepare(enc)),
        batch_sampler=_batches(enc, raw, run),
        collate_fn=_Collate(enc.collate if neural else None),
        num_workers=run.num_workers,
        persistent_workers=False,
        # page-locked batches: the copy to the GPU overlaps (enc.move is non-blocking)
        pin_memory=neural and device_type(enc) == "cuda",
    )
    out_ids: list[int] = []
    out_vecs: list[np.ndarray] = []
    skipped: list[dict[str, Any]] = []
    if neural:
        check_threads()
    batches = prefetched(loader) if _is_text(enc) and run.num_workers == 0 else iter(loader)
    with torch.inference_mode(), contextlib.closing(_Closable(batches)):
        for good_ids, batch, bad in batches:
            for row, item in bad:
                skipped.append(bad_item(run, row, item.reason))
            if good_ids:
                vecs = _forward(enc, batch) if neural else enc.encode(batch)
                out_ids += good_ids
                out_vecs.append(np.asarray(vecs, dtype=np.float32))
            advance(len(good_ids) + len(bad))
    return _finish(out_ids, out_vecs, skipped, run)


def encode_shards(
    source: Any,
    column: str,
    pending: list[tuple[int, int, int]],
    run: Run,
    advance: Callable[[int], None],
) -> Iterator[tuple[int, np.ndarray, np.ndarray, list[dict[str, Any]]]]:
    """Embed the rows of each pending shard ``(index, first row, rows)`` of ``source`` (a
    ``datasets.Dataset`` whose ``column`` holds raw items); yields ``(index, kept ids,
    float32 (n, dim), skipped)`` per shard, in order, as :func:`encode_rows` would.

    Image encoders with DataLoader workers run every shard through **one** loader (one
    worker pool; batches never cross a shard), so decoding never stops between shards:
    a loader per shard started its workers again and left them idle while its last
    batches ran (measured on an H200: 0.78x a plain timm + DataLoader loop at 224 px,
    0.48x at 32 px, 10,000 images in 2 shards). Other encoders run shard by shard.
    """
    enc = run.encoder
    image = isinstance(enc, TorchEncoder) and enc.modality == "image"
    if not (image and run.num_workers > 0 and len(pending) > 1):
        for index, lo, rows in pending:
            raw = source[lo : lo + rows][column]
            yield (index, *encode_rows(raw, np.arange(lo, lo + rows), run, advance))
        return
    yield from _pipelined_shards(source, column, pending, run, advance)


class _SourceRows(torch.utils.data.Dataset):
    """Rows of a dataset's column -> (row, prepared item or BadItem), read a batch at a
    time (``__getitems__``: one Arrow read per batch) in DataLoader workers."""

    def __init__(self, source: Any, column: str, prepare: Callable[[Any], Any]) -> None:
        self.source, self.column, self.prepare = source, column, prepare

    def __len__(self) -> int:
        return len(self.source)

    def __getitem__(self, row: int) -> tuple[int, Any]:
        return self.__getitems__([row])[0]

    def __getitems__(self, rows: list[int]) -> list[tuple[int, Any]]:
        out = []
        for row, item in zip(rows, self.source[list(rows)][self.column], strict=True):
            try:
                out.append((int(row), self.prepare(item)))
            except Exception as e:  # a corrupt image: judged in the main process
                out.append((int(row), BadItem(failure_reason(e))))
        return out


def _pipelined_shards(source, column, pending, run: Run, advance):
    enc = run.encoder
    sampler, owner = [], []
    for k, (_, lo, rows) in enumerate(pending):
        for start in range(lo, lo + rows, run.batch_size):
            sampler.append(list(range(start, min(start + run.batch_size, lo + rows))))
            owner.append(k)
    left = np.bincount(owner, minlength=len(pending))
    loader = DataLoader(
        _SourceRows(source, column, _Prepare(enc)),
        batch_sampler=sampler,
        collate_fn=_Collate(enc.collate),
        num_workers=run.num_workers,
        pin_memory=device_type(enc) == "cuda",
    )
    check_threads()
    out_ids: list[int] = []
    out_vecs: list[np.ndarray] = []
    skipped: list[dict[str, Any]] = []
    with torch.inference_mode():
        for k, (good_ids, batch, bad) in zip(owner, loader, strict=True):
            for row, item in bad:
                skipped.append(bad_item(run, row, item.reason))
            if good_ids:
                out_vecs.append(_forward(enc, batch))
                out_ids += good_ids
            advance(len(good_ids) + len(bad))
            left[k] -= 1
            if left[k] == 0:
                yield (pending[k][0], *_finish(out_ids, out_vecs, skipped, run))
                out_ids, out_vecs, skipped = [], [], []


def _finish(out_ids: list[int], out_vecs: list[np.ndarray], skipped: list, run: Run):
    """(kept ids in input order, float32 ``(n, dim)`` normalised when asked, skipped)."""
    X = np.concatenate(out_vecs) if out_vecs else np.zeros((0, run.encoder.dim), np.float32)
    order = np.argsort(np.asarray(out_ids, dtype=np.int64), kind="stable")
    X = X[order]
    if run.normalize and len(X):
        X = X / np.maximum(np.linalg.norm(X, axis=1, keepdims=True), 1e-12)
    return np.asarray(out_ids, dtype=np.int64)[order], X.astype(np.float32), skipped


def bad_item(run: Run, row: int, reason: str) -> dict[str, Any]:
    """A bad item at ``row``: raises :class:`DataError` naming the row, its reason and the
    fix when the run's ``on_error`` is ``raise``; else its manifest entry (skipped)."""
    if run.on_error == "raise":
        raise DataError(
            f"{run.describe(row)}: {reason}. Fix it, or pass --on-error skip "
            "to skip such items (they are counted in the manifest)"
        )
    return {"id": row, "reason": reason}


def _valid_texts(raw: Sequence[Any], ids: np.ndarray, run: Run):
    """(positions of good texts, their preprocessed texts, skipped rows): a bad item raises
    (naming its row) or is listed, as the run's ``on_error`` asks."""
    good, texts, skipped = [], [], []
    prepare = _Prepare(run.encoder)
    for j, item in enumerate(raw):
        try:
            texts.append(prepare(item))
            good.append(j)
        except Exception as e:
            skipped.append(bad_item(run, int(ids[j]), failure_reason(e)))
    return good, texts, skipped


def _encode_tokenized(raw: Sequence[Any], ids: np.ndarray, run: Run, advance):
    """Texts of a token-counting encoder, each tokenised **once**: grouped by token counts
    estimated from characters (:func:`estimated_tokens`), each group tokenised in one
    call of the encoder's own ``collate``, then cut into token-budget batches by the real
    counts (:func:`_grouped`), in a producer thread while the previous batch runs.
    Earlier every text was tokenised twice (once to count, once in its batch), and on an
    H200 that host-side work bounded throughput; one padded call over the whole shard
    cost more than both (every text padded to the shard's longest) and ran before any
    batch. With ``run.num_workers`` > 0 (the default on a GPU, :func:`default_workers`)
    groups are tokenised in that many worker processes instead. Same vectors as before."""
    enc = run.encoder
    good, texts, skipped = _valid_texts(raw, ids, run)
    advance(len(skipped))
    if not texts:
        return [], [], skipped
    groups, cut = _text_groups(enc, estimated_tokens(enc, texts), run)
    sliced = _tokenized_batches(enc, texts, groups, cut, run.num_workers)
    out_ids: list[int] = []
    out_vecs: list[np.ndarray] = []
    tuner = thread_tuner(enc)
    with torch.inference_mode(), contextlib.closing(_Closable(sliced)), \
            fused_linears(enc.model) as fusion, short_attention(enc.model) as short:  # fmt: skip
        enc.cpu_kernels = {**fusion.to_dict(), "short_attention": short}
        try:
            for rows, batch in sliced:
                vecs = tuner.run(lambda b=batch: _forward(enc, b), batch_work(batch, len(rows)))
                out_vecs.append(vecs)
                out_ids += [int(ids[good[r]]) for r in rows]
                advance(len(rows))
        finally:
            tuner.close()
    return out_ids, out_vecs, skipped


def _forward(enc: TorchEncoder, batch: Any) -> np.ndarray:
    return enc.forward(enc.move(batch)).float().cpu().numpy()


def thread_tuner(enc: Encoder) -> ThreadTuner:
    """A :class:`~reprlearn.thread_tuner.ThreadTuner` for ``enc``'s batches: on the CPU it
    chooses between all physical cores and half of them by measured speed (a shared
    machine runs faster on fewer threads), unless ``OMP_NUM_THREADS`` fixes the count; on
    other devices it keeps the count. The CPU tuner is kept per process, encoder name and
    dtype: later runs (shards, calls) start from what earlier ones measured."""
    threads = check_threads()
    cpu = device_type(enc) == "cpu"
    auto = cpu and isinstance(enc, TorchEncoder) and "OMP_NUM_THREADS" not in os.environ
    if not auto:
        return ThreadTuner([threads])
    candidates = tuple(thread_candidates(threads))
    # one per process and model (costs are seconds per token of that model and dtype)
    key = (*_tuner_model(enc), candidates)
    if key not in _TUNERS:
        _TUNERS[key] = ThreadTuner(candidates)
    return _TUNERS[key].begin()


_TUNERS: dict[tuple[Any, ...], ThreadTuner] = {}


def _tuner_model(enc: Encoder) -> tuple[str, str]:
    """(model name, dtype): what a :func:`thread_tuner` is kept per (with its candidates)."""
    return enc.name or type(enc).__name__, str(getattr(enc, "dtype", ""))


# Texts are tokenised in groups of about SUPER batches (by estimated length), then cut into
# batches by their real counts: on 8,192 MR/SUBJ/SST2/TREC texts (MiniLM's tokenizer) the
# batches carried 6-8% more padded tokens than batches of exactly counted texts (4: 11-13%;
# batches cut by the estimate alone: 39-42%), and each text is tokenised once.
SUPER = 8


def estimated_tokens(encoder: Encoder, texts: list[str], sample: int = 256) -> np.ndarray:
    """``(n,)`` token counts of ``texts`` estimated from their characters, so each text is
    tokenised only once, in its batch: characters x the tokens per character of a seeded
    sample of ``sample`` texts (its 90th percentile, so batches err small), capped at the
    encoder's maximum sequence length. Texts sorted by it pad about as little as texts
    sorted by exact counts."""
    chars = np.fromiter((len(t) for t in texts), np.int64, len(texts))
    rng = np.random.default_rng(0)
    picked = rng.choice(len(texts), size=min(sample, len(texts)), replace=False)
    counts = np.asarray(encoder.lengths([texts[i] for i in picked]), dtype=np.float64)
    ratio = float(np.percentile(counts / np.maximum(chars[picked], 1), 90))
    estimate = np.maximum(np.ceil(chars * ratio), 1).astype(np.int64)
    model = getattr(encoder, "model", None)
    cap = getattr(model, "max_seq_length", None) or getattr(encoder, "max_length", None)
    return np.minimum(estimate, int(cap)) if cap else estimate


@dataclass(frozen=True)
class _Cut:
    """Real token counts of a group -> its batches: by a token ``budget`` (at most
    ``max_items`` texts), or ``size`` texts when ``budget`` is None (longest first)."""

    budget: int | None
    max_items: int
    size: int

    def __call__(self, real: np.ndarray) -> list[list[int]]:
        if self.budget is not None:
            return token_batches(real, self.budget, self.max_items)
        ranked = np.argsort(-real, kind="stable")
        return [ranked[s : s + self.size].tolist() for s in range(0, len(real), self.size)]


def _text_groups(enc: Encoder, estimate: np.ndarray, run: Run) -> tuple[list[list[int]], _Cut]:
    """(groups of text positions to tokenise together, the :class:`_Cut` of a group into
    batches). Groups hold about :data:`SUPER` batches of texts of similar estimated
    length; batches follow the run's token budget, or ``batch_size`` items when set."""
    kind = device_type(enc)
    if run.token_budget is None:  # an explicit --batch-size: items
        size, order = run.batch_size, np.argsort(-estimate, kind="stable")
        step = SUPER * size
        groups = [order[s : s + step].tolist() for s in range(0, len(order), step)]
        return groups, _Cut(None, size, size)
    budget = run.token_budget
    budget = token_budget(estimate, kind) if budget == "auto" else int(budget)
    groups = token_batches(estimate, SUPER * budget, max_items=len(estimate))
    return groups, _Cut(budget, max_batch_items(kind), run.batch_size)


class _TokenGroups(torch.utils.data.Dataset):
    """Group ``g`` -> its ``(rows, batch)`` list (:func:`_grouped`), tokenised in a
    DataLoader worker process."""

    def __init__(self, encoder: Encoder, texts: list[str], groups, cut: _Cut) -> None:
        self.encoder, self.texts, self.groups, self.cut = encoder, texts, groups, cut

    def __len__(self) -> int:
        return len(self.groups)

    def __getitem__(self, g: int) -> list[tuple[list[int], Any]]:
        return [
            (rows, dict(batch))
            for rows, batch in _grouped(self.encoder, self.texts, [self.groups[g]], self.cut)
        ]


def _tokenized_batches(enc: Encoder, texts: list[str], groups, cut: _Cut, workers: int):
    """``(rows, batch)`` batches, tokenised in a producer thread, or, with ``workers`` > 0,
    in that many DataLoader worker processes (a group each; page-locked for a GPU)."""
    if workers <= 0:
        return prefetched(_grouped(enc, texts, groups, cut))
    # forked workers must not use the tokenizer's own thread pool (Hugging Face tokenizers
    # disables it in a fork, with a warning, unless this is set)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    loader = DataLoader(
        _TokenGroups(enc, texts, groups, cut),
        batch_size=None,
        num_workers=workers,
        pin_memory=device_type(enc) == "cuda",
    )
    return (item for group in loader for item in group)


def _grouped(encoder: Encoder, texts: list[str], groups: list[list[int]], cut):
    """``(rows, batch)`` batches: each group of texts (about :data:`SUPER` batches of texts
    of similar estimated length) is tokenised in one ``collate`` call, then sorted by its
    real token counts (the attention mask) and ``cut`` into batches, each a slice of the
    group's tensors trimmed to its longest text."""
    for group in groups:
        features = encoder.collate([texts[r] for r in group])
        mask = features.get("attention_mask") if isinstance(features, Mapping) else None
        if not (isinstance(mask, torch.Tensor) and mask.dim() == 2):  # count, then re-tokenise
            real = np.asarray(encoder.lengths([texts[r] for r in group]), dtype=np.int64)
            for part in cut(real):
                rows = [group[j] for j in part]
                yield rows, encoder.collate([texts[r] for r in rows])
            continue
        for part, batch in _token_slices(features, mask, cut(mask.sum(1).numpy())):
            yield [group[j] for j in part], batch


def _token_slices(features: Mapping, mask: torch.Tensor, batches: list[list[int]]):
    """``(rows, batch)`` per index batch: every ``(n, tokens)`` tensor of ``features`` cut
    to the rows and to the columns where any of them has a token (left or right padding),
    ``(n, ...)`` tensors cut to the rows, other values unchanged."""
    n, width = mask.shape
    for rows in batches:
        idx = torch.as_tensor(rows)
        used = mask[idx].any(0).nonzero().flatten()
        lo, hi = (int(used[0]), int(used[-1]) + 1) if len(used) else (0, width)
        batch = {}
        for key, value in features.items():
            if (
                isinstance(value, torch.Tensor)
                and value.dim() >= 2
                and value.shape[:2] == (n, width)
            ):
                value = value[idx, lo:hi]
            elif isinstance(value, torch.Tensor) and value.dim() >= 1 and value.shape[0] == n:
                value = value[idx]
            batch[key] = value
        yield rows, batch
