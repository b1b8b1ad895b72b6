"""A learned lookup layer: ``nn.EmbeddingBag`` + linear classifier trained from scratch on
labelled text (fastText's supervised model, Joulin et al. 2017, "Bag of tricks for
efficient text classification", EACL).

A text is the mean of the rows of its words in a ``(V, dim)`` table — exactly one-hot
(or bag-of-words) ``(V,)`` times the table, computed as a lookup — and a linear layer
maps it to class logits. Trained with cross-entropy and Adam on a seeded 80% of the rows;
the other 20% give the held-out accuracy. The folder written holds ``model.safetensors``
(``embedding.weight``, ``classifier.weight``, ``classifier.bias``), ``vocab.txt`` and
``manifest.json`` (with the memory of one-hot vs dense inputs); ``bag:FOLDER`` embeds
with the learned table.
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from reprlearn.errors import DataError
from reprlearn.words.tokenize import tokenize


class BagClassifier(nn.Module):
    """``EmbeddingBag(V, dim, mode="mean")`` -> ``Linear(dim, n_classes)``."""

    def __init__(self, vocab_size: int, dim: int, n_classes: int) -> None:
        super().__init__()
        self.embedding = nn.EmbeddingBag(vocab_size, dim, mode="mean", sparse=True)
        self.classifier = nn.Linear(dim, n_classes)

    def embed(self, ids: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
        """Mean word vector per text ``(batch, dim)`` (zeros for a text with no known word)."""
        return self.embedding(ids, offsets)

    def forward(self, ids: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.embed(ids, offsets))


def to_bags(texts: list[str], index: dict[str, int]) -> tuple[torch.Tensor, torch.Tensor, int, int]:
    """Texts -> (flat token ids, offsets, known tokens, OOV tokens) for ``EmbeddingBag``."""
    ids, offsets, known, oov = [], [], 0, 0
    for text in texts:
        offsets.append(len(ids))
        for t in tokenize(text or ""):
            if t in index:
                ids.append(index[t])
                known += 1
            else:
                oov += 1
    return torch.tensor(ids, dtype=torch.long), torch.tensor(offsets, dtype=torch.long), known, oov


def memory_facts(vocab_size: int, dim: int) -> dict[str, int]:
    """Bytes per item of a dense float32 one-hot/bag-of-words input ``(V,)`` vs the dense
    vector ``(dim,)``, and of the lookup table ``(V, dim)``."""
    return {
        "onehot_float32_bytes_per_item": 4 * vocab_size,
        "dense_float32_bytes_per_item": 4 * dim,
        "lookup_table_bytes": 4 * vocab_size * dim,
    }


def train_bag_classifier(
    texts: list[str], labels: list[int], label_names: list[str], out: str | Path, *,
    dim: int = 64, epochs: int = 5, lr: float = 0.01, batch_size: int = 64, min_count: int = 1,
    seed: int = 0, overwrite: bool = False, progress: bool = True,
) -> dict[str, Any]:  # fmt: skip
    """Train the lookup table + classifier and save them to ``out``.

    Args:
        texts, labels: the labelled rows (labels are ids into ``label_names``).
        dim: table width (default 64); epochs: passes (default 5); lr: Adam's rate
            (default 0.01); min_count: keep words seen this often in the training rows.
        seed: split and initialisation seed.

    Returns:
        the manifest (vocab size, dim, held-out accuracy, memory facts, seconds).

    Raises:
        DataError: fewer than 2 classes, or no words.
    """
    from reprlearn.outdir import write_json_atomic, writer_lock
    from reprlearn.progress import progress_bar
    from reprlearn.words.vectors import fresh_out_dir

    if len(set(labels)) < 2:
        raise DataError(
            "--method bag trains a classifier: the source needs a label column with 2 or more classes"
        )
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(texts))
    cut = int(0.8 * len(texts))
    train_rows, test_rows = order[:cut], order[cut:]
    tally = Counter(t for i in train_rows for t in tokenize(texts[i] or ""))
    vocab = sorted(w for w, c in tally.items() if c >= min_count)
    if not vocab:
        raise DataError("the training texts hold no words (or none reaches --min-count)")
    index = {w: i for i, w in enumerate(vocab)}
    torch.manual_seed(seed)
    model = BagClassifier(len(vocab), dim, len(label_names))
    # sparse rows for the table (only the words of a batch are updated), dense for the head
    opts = [
        torch.optim.SparseAdam(list(model.embedding.parameters()), lr=lr),
        torch.optim.Adam(model.classifier.parameters(), lr=lr),
    ]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny sparse steps: one thread is ~5x faster than several
    y = torch.tensor(labels, dtype=torch.long)
    start = time.perf_counter()
    steps = epochs * int(np.ceil(len(train_rows) / batch_size))
    try:
        with progress_bar("bag epochs (batches)", total=steps, enabled=progress) as advance:
            for _ in range(epochs):
                model.train()
                perm = rng.permutation(train_rows)
                for lo in range(0, len(train_rows), batch_size):
                    rows = perm[lo : lo + batch_size]
                    ids, offsets, _, _ = to_bags([texts[i] for i in rows], index)
                    loss = nn.functional.cross_entropy(model(ids, offsets), y[rows])
                    for opt in opts:
                        opt.zero_grad()
                    loss.backward()
                    for opt in opts:
                        opt.step()
                    advance(1)
    finally:
        torch.set_num_threads(threads)
    model.eval()
    with torch.inference_mode():
        ids, offsets, known, oov = to_bags([texts[i] for i in test_rows], index)
        accuracy = float((model(ids, offsets).argmax(1) == y[test_rows]).float().mean())
    out = fresh_out_dir(out, "bag", overwrite, "manifest.json")
    manifest = {
        "method": "bag (nn.EmbeddingBag mean + linear, fastText-style supervised)",
        "vocab_size": len(vocab), "dim": dim, "classes": label_names, "epochs": epochs, "lr": lr,
        "train_rows": int(len(train_rows)), "heldout_rows": int(len(test_rows)), "heldout_accuracy": accuracy,
        "heldout_oov_share": oov / max(known + oov, 1), "memory": memory_facts(len(vocab), dim),
        "seconds": round(time.perf_counter() - start, 2), "seed": seed,
    }  # fmt: skip
    with writer_lock(out):
        from safetensors.torch import save_file

        save_file(
            {k: v.contiguous() for k, v in model.state_dict().items()},
            str(out / "model.safetensors"),
        )
        (out / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
        write_json_atomic(out / "manifest.json", manifest)
    return {**manifest, "out": str(out)}


def load_bag(folder: str | Path) -> tuple[BagClassifier, dict[str, int], dict[str, Any]]:
    """Read a folder from :func:`train_bag_classifier` (safetensors: no pickle).

    Raises:
        DataError: the folder lacks ``model.safetensors``/``vocab.txt``/``manifest.json``.
    """
    import json

    from safetensors.torch import load_file

    folder = Path(folder)
    needed = ("model.safetensors", "vocab.txt", "manifest.json")
    if not all((folder / n).is_file() for n in needed):
        raise DataError(
            f"{folder}: not a bag folder (needs {', '.join(needed)}); train one with `reprlearn words train SOURCE --method bag --out FOLDER`"
        )
    manifest = json.loads((folder / "manifest.json").read_text())
    vocab = (folder / "vocab.txt").read_text(encoding="utf-8").split("\n")[: manifest["vocab_size"]]
    model = BagClassifier(len(vocab), manifest["dim"], len(manifest["classes"]))
    model.load_state_dict(load_file(str(folder / "model.safetensors")))
    return model.eval(), {w: i for i, w in enumerate(vocab)}, manifest
