"""Shared fixtures for the pretrained-family tests: real items (digits, MR sentences).

The tiny random-weight models themselves are built in each family's test file (timm's in
``tiny_timm`` here, shared by two files), saved to ``tmp_path`` and loaded back through the
family's hub-id code path.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch


@pytest.fixture(scope="session")
def digits():
    """A 24-row slice of sklearn's digits as a Dataset (8x8 ``L`` images, labels)."""
    from reprlearn.data import load_dataset

    return load_dataset("digits").select(range(24))


@pytest.fixture(scope="session")
def digit_images(digits):
    """The digits slice as a list of 8x8 grayscale PIL images."""
    return list(digits["image"])


@pytest.fixture(scope="session")
def mr(shared_data):
    """The MR movie-review dataset (10,662 sentences); skips when ../shared/data is absent."""
    from reprlearn.data import load_dataset

    return load_dataset(str(shared_data / "senteval" / "MR"))


@pytest.fixture(scope="session")
def mr_sentences(mr):
    """40 real MR sentences of mixed lengths (every 250th row: both classes)."""
    return list(mr.select(range(0, 10_000, 250))["text"])


@pytest.fixture(autouse=True)
def _seeded():
    torch.manual_seed(0)


def _cosine_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    return (a64 * b64).sum(1) / (np.linalg.norm(a64, axis=1) * np.linalg.norm(b64, axis=1))


@pytest.fixture(scope="session")
def cosine_rows():
    """Row-wise cosine similarity of two ``(n, dim)`` arrays -> ``(n,)``."""
    return _cosine_rows


def _save_tiny_bert(folder, sentences: list[str]):
    """A random 2-layer, 32-wide BERT + a WordPiece tokenizer whose vocabulary is the
    words of ``sentences``, saved with ``save_pretrained`` into ``folder``."""
    from collections import Counter

    from transformers import BertConfig, BertModel, BertTokenizerFast

    words = Counter(w for s in sentences for w in s.lower().split())
    chars = sorted({c for s in sentences for c in s.lower() if not c.isspace()})
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *chars]
    vocab += [f"##{c}" for c in chars] + [w for w, _ in words.most_common(300) if w not in vocab]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n")
    tokenizer = BertTokenizerFast(vocab_file=str(folder / "vocab.txt"), model_max_length=64)
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=64,
    )
    BertModel(config).eval().save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture
def tiny_bert(tmp_path, mr_sentences):
    """Folder of a tiny random BERT + tokenizer (``save_pretrained`` layout)."""
    return _save_tiny_bert(tmp_path / "tiny-bert", mr_sentences)


@pytest.fixture(scope="module")
def tiny_timm(tmp_path_factory):
    """timm's ``test_resnet`` (random weights) saved with ``timm.models.save_for_hf``:
    ``(folder, the model without its classifier, in eval mode)``. Module scope: a test
    file may change the model's dtype without touching another file's copy."""
    import timm
    from timm.models import save_for_hf

    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("timm") / "test_resnet"
    model = timm.create_model("test_resnet.r160_in1k", pretrained=False)
    save_for_hf(model, str(folder))
    model.reset_classifier(0)
    return folder, model.eval()
