"""Back-translation (Sennrich et al. 2016; sampled pivots as in Edunov et al. 2018,
"Understanding Back-Translation at Scale"): translate each text into a pivot language and
back with two Hugging Face translation models (``--via SRC2PIVOT,PIVOT2SRC``, e.g.
Helsinki-NLP's MarianMT ``opus-mt-en-de,opus-mt-de-en``), batched, bf16 where fast.

With ``n = 1`` both legs decode greedily (deterministic); with ``n > 1`` the pivot leg
samples ``n`` translations per text (nucleus sampling, ``top_p = 0.95``, seeded) and each is
translated back greedily, so the ``n`` paraphrases differ.
"""

from __future__ import annotations

import socket
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import torch

from reprlearn.errors import ReprlearnError

DEFAULT_VIA = ("Helsinki-NLP/opus-mt-en-de", "Helsinki-NLP/opus-mt-de-en")
TOP_P = 0.95


@dataclass
class BackTranslateCounts:
    """What back-translation did (nothing is dropped silently).

    Attributes:
        texts: originals seen. empty: empty or blank texts (not translated).
        unchanged: paraphrases not kept because they equal the original or another
            paraphrase of it. new: paraphrases kept. via: the two models.
        precision: ``bf16`` or ``fp32``. device: where the models ran.
    """

    texts: int = 0
    empty: int = 0
    unchanged: int = 0
    new: int = 0
    via: list[str] = field(default_factory=list)
    precision: str = "fp32"
    device: str = "cpu"

    def to_dict(self) -> dict[str, object]:
        """The counts as a JSON-ready dict."""
        return dict(self.__dict__)


def parse_via(via: str | Sequence[str] | None) -> tuple[str, str]:
    """``"A,B"`` or ``(A, B)`` -> ``(A, B)``; None -> :data:`DEFAULT_VIA`.

    Raises:
        ReprlearnError: not exactly two model names.
    """
    if via is None:
        return DEFAULT_VIA
    parts = [p.strip() for p in (via.split(",") if isinstance(via, str) else via) if p.strip()]
    if len(parts) != 2:
        raise ReprlearnError(
            f"--via {via!r}: give two translation models SRC2PIVOT,PIVOT2SRC, e.g. "
            f"{','.join(DEFAULT_VIA)}"
        )
    return parts[0], parts[1]


def _hub_reachable(timeout: float = 3.0) -> bool:
    from huggingface_hub import constants

    url = urlparse(constants.ENDPOINT)
    try:
        socket.create_connection((url.hostname, url.port or 443), timeout=timeout).close()
    except OSError:
        return False
    return True


def _unavailable(name: str, via: tuple[str, str], why: str) -> ReprlearnError:
    return ReprlearnError(
        f"back-translation model {name!r} (of --via {','.join(via)}) could not be loaded: "
        f"{why}. Use folders written by save_pretrained, or hub ids already in the Hugging "
        "Face cache (download them once with network access)"
    )


def load_translator(name: str, via: tuple[str, str], device: torch.device, dtype: torch.dtype):
    """``(tokenizer, model)`` of one translation model (a local folder or a hub id: the
    cache first, the hub when it is reachable).

    Raises:
        ReprlearnError: the model is neither a folder, cached, nor downloadable (offline);
            the message names both models of ``via``.
    """
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # "Loading weights" bars: the command shows its own

    def load(local_only: bool):
        tok = AutoTokenizer.from_pretrained(name, local_files_only=local_only)
        model = AutoModelForSeq2SeqLM.from_pretrained(name, local_files_only=local_only)
        return tok, model

    try:
        tok, model = load(local_only=not Path(name).is_dir())
    except (OSError, ValueError) as e:
        if Path(name).is_dir():
            raise _unavailable(name, via, f"{_first_line(e)}") from None
        if not _hub_reachable():
            raise _unavailable(name, via, "offline, and not in the Hugging Face cache") from None
        try:
            tok, model = load(local_only=False)
        except (OSError, ValueError) as e2:
            raise _unavailable(name, via, _first_line(e2)) from None
    return tok, model.to(device=device, dtype=dtype).eval()


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


@torch.inference_mode()
def translate(
    texts: Sequence[str],
    tokenizer: Any,
    model: Any,
    *,
    n: int = 1,
    batch_size: int = 32,
    max_length: int = 256,
) -> list[str]:
    """Translate ``texts`` in batches of ``batch_size``: ``len(texts) * n`` outputs, the
    ``n`` of text ``i`` at ``[i*n, (i+1)*n)`` (greedy for ``n = 1``, nucleus samples for
    ``n > 1``; seed with ``torch.manual_seed`` first). Inputs are cut to ``max_length``
    tokens; outputs stop at ``2 * input length + 10`` new tokens (at most the model's
    ``max_position_embeddings - 1``)."""
    limit = int(getattr(model.config, "max_position_embeddings", 512) or 512)
    max_length = min(max_length, limit)
    out: list[str] = []
    for start in range(0, len(texts), batch_size):
        batch = list(texts[start : start + batch_size])
        enc = tokenizer(batch, return_tensors="pt", padding=True, truncation=True,
                        max_length=max_length).to(model.device)  # fmt: skip
        sample = {"do_sample": True, "top_p": TOP_P, "top_k": 0} if n > 1 else {"do_sample": False}
        ids = model.generate(**enc, num_return_sequences=n, num_beams=1,
                             max_new_tokens=min(2 * enc["input_ids"].shape[1] + 10, limit - 1),
                             **sample)  # fmt: skip
        out += tokenizer.batch_decode(ids, skip_special_tokens=True)
    return [t.strip() for t in out]


def back_translate(
    texts: Sequence[str],
    *,
    via: str | Sequence[str] | None = None,
    n: int = 1,
    batch_size: int = 32,
    device: str = "auto",
    precision: str = "auto",
    seed: int = 0,
) -> tuple[list[tuple[int, str, str]], BackTranslateCounts]:
    """Paraphrase ``texts`` by translating them to a pivot language and back.

    Args:
        texts: the originals (empty ones are skipped and counted).
        via: ``"SRC2PIVOT,PIVOT2SRC"`` hub ids or local folders (default
            :data:`DEFAULT_VIA`, English through German).
        n: paraphrases per text (default 1; > 1 samples the pivot leg).
        batch_size: texts per ``generate`` call. device: ``auto`` | ``cpu`` | ``cuda``...
        precision: ``auto`` (bf16 on CUDA and on CPUs with AMX/AVX512-BF16) | ``fp32`` | ``bf16``.
        seed: ``torch.manual_seed`` before each leg.
    Returns:
        ``[(source_index, paraphrase, "backtranslate"), ...]`` and the counts.
    Raises:
        ReprlearnError: ``n`` < 1, a bad ``via``, a model that cannot be loaded (offline:
            the message names the models).
    """
    from reprlearn.device import resolve_device, resolve_precision

    if n < 1:
        raise ReprlearnError(f"--n {n}: the number of new sentences per original must be >= 1")
    pair = parse_via(via)
    dev = resolve_device(device)
    prec = resolve_precision(precision, dev)
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(prec, torch.float32)
    counts = BackTranslateCounts(via=list(pair), precision=prec, device=str(dev))
    keep = [i for i, t in enumerate(texts) if t and t.strip()]
    counts.texts, counts.empty = len(texts), len(texts) - len(keep)
    rows: list[tuple[int, str, str]] = []
    if not keep:
        return rows, counts
    forward = load_translator(pair[0], pair, dev, dtype)
    backward = load_translator(pair[1], pair, dev, dtype)
    torch.manual_seed(seed)
    pivots = translate([texts[i] for i in keep], *forward, n=n, batch_size=batch_size)
    torch.manual_seed(seed)
    back = translate(pivots, *backward, n=1, batch_size=batch_size)
    for j, i in enumerate(keep):
        seen = {texts[i].strip()}
        for new in back[j * n : (j + 1) * n]:
            if new and new not in seen:
                seen.add(new)
                rows.append((i, new, "backtranslate"))
            else:
                counts.unchanged += 1
    counts.new = len(rows)
    return rows, counts
