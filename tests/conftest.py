"""Shared fixtures: the real datasets in ../shared/data (skipped with a reason when absent)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED_DATA = Path(
    os.environ.get(
        "REPRLEARN_SHARED_DATA", Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
    )
).resolve()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Path of ../shared/data; skips the test when it is absent (a user's fresh clone)."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real datasets not found at {SHARED_DATA} (set REPRLEARN_SHARED_DATA)")
    return SHARED_DATA


@pytest.fixture(autouse=True, scope="session")
def _quiet_datasets():
    import datasets

    datasets.disable_progress_bars()
    yield


def _save_tiny_st(folder: Path, words) -> Path:
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Pooling, Transformer
    from transformers import BertConfig, BertModel, BertTokenizerFast

    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *words]
    (folder / "bert").mkdir(parents=True)
    (folder / "bert" / "vocab.txt").write_text("\n".join(vocab) + "\n")
    tok = BertTokenizerFast(vocab_file=str(folder / "bert" / "vocab.txt"), model_max_length=32)
    config = BertConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2,
                        num_attention_heads=2, intermediate_size=64, max_position_embeddings=64)  # fmt: skip
    torch.manual_seed(0)
    BertModel(config).eval().save_pretrained(folder / "bert")
    tok.save_pretrained(folder / "bert")
    SentenceTransformer(
        modules=[Transformer(str(folder / "bert"), max_seq_length=32), Pooling(32, "mean")],
        device="cpu",
    ).save(str(folder / "st"))
    return folder / "st"


@pytest.fixture(scope="session")
def save_tiny_st():
    """``save_tiny_st(folder, words) -> folder/st``: a tiny random sentence-transformers
    model (2-layer 32-wide BERT + mean pooling, seed 0) whose WordPiece vocabulary is the
    special tokens + ``words``, saved with ``SentenceTransformer.save``."""
    return _save_tiny_st


def _run_main(argv: list[str], capsys, monkeypatch) -> tuple[int, str, str]:
    """Run the console script's ``main`` in-process: (exit code, stdout, stderr)."""
    import sys

    from reprlearn.cli import main

    monkeypatch.setattr(sys, "argv", ["reprlearn", *argv])
    monkeypatch.delenv("REPRLEARN_DEBUG", raising=False)
    with pytest.raises(SystemExit) as e:
        main()
        raise SystemExit(0)
    out, err = capsys.readouterr()
    return int(e.value.code or 0), out, err


@pytest.fixture
def run_main():
    """``run_main(argv, capsys, monkeypatch) -> (exit code, stdout, stderr)``: the
    ``reprlearn`` console script run in-process, as a user's shell would (exit codes, the
    one-line errors of :mod:`reprlearn.cli`)."""
    return _run_main
