"""Word-vector folders: save and load gensim ``KeyedVectors`` without pickle.

A folder written by :func:`save_vectors` (``words train``) holds

* ``vectors.npz``: ``vectors`` float32 ``(V, dim)`` and, for fastText, ``vectors_vocab``
  and ``vectors_ngrams`` (``(bucket, dim)``); ``counts`` int64 ``(V,)`` (corpus
  frequencies, used by SIF weighting); read with ``allow_pickle=False``;
* ``vocab.txt``: one word per line, in row order;
* ``manifest.json``: method, dim, vocabulary size, training options, corpus facts,
  fastText's ``min_n``/``max_n``/``bucket``.

gensim's own ``KeyedVectors.save`` pickles, so it is never used to read user files.
:func:`load_vectors` also reads the formats others publish: word2vec text/binary
(``.txt``/``.bin``/``.vec``), GloVe text (no header line), Facebook fastText ``.bin``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from reprlearn.errors import DataError

KINDS = ("w2v", "fasttext", "glove")


def save_vectors(kv: Any, folder: str | Path, manifest: dict[str, Any]) -> Path:
    """Write ``kv`` (gensim ``KeyedVectors`` / ``FastTextKeyedVectors``) to ``folder``.

    ``manifest`` is extended with ``dim``, ``vocab_size`` and, for fastText, its n-gram
    settings. Returns the folder. The files are written as dot-files and renamed.
    """
    import os

    from gensim.models.fasttext import FastTextKeyedVectors

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    words = list(kv.index_to_key)
    if any(("\n" in w or "\r" in w) for w in words):
        raise DataError("a word contains a line break; cannot write vocab.txt")
    counts = np.asarray(kv.expandos.get("count", np.zeros(len(words))), dtype=np.int64)
    arrays = {"vectors": np.asarray(kv.vectors, dtype=np.float32), "counts": counts}
    manifest = {**manifest, "dim": int(kv.vector_size), "vocab_size": len(words)}
    if isinstance(kv, FastTextKeyedVectors):
        arrays["vectors_vocab"] = np.asarray(kv.vectors_vocab, dtype=np.float32)
        arrays["vectors_ngrams"] = np.asarray(kv.vectors_ngrams, dtype=np.float32)
        manifest.update(min_n=kv.min_n, max_n=kv.max_n, bucket=kv.bucket, format="fasttext")
    else:
        manifest.setdefault("format", "w2v")
    with open(folder / ".vectors.npz", "wb") as f:
        np.savez(f, **arrays)
    os.replace(folder / ".vectors.npz", folder / "vectors.npz")
    (folder / ".vocab.txt").write_text("\n".join(words) + "\n", encoding="utf-8")
    os.replace(folder / ".vocab.txt", folder / "vocab.txt")
    (folder / ".manifest.json").write_text(json.dumps(manifest, indent=1, default=str))
    os.replace(folder / ".manifest.json", folder / "manifest.json")
    return folder


def read_manifest(folder: str | Path) -> dict[str, Any]:
    """The ``manifest.json`` of a vectors folder (``{}`` when it has none)."""
    path = Path(folder) / "manifest.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def load_vectors(path: str | Path, kind: str = "auto") -> Any:
    """Load word vectors as gensim ``KeyedVectors`` (``FastTextKeyedVectors`` for fastText).

    Args:
        path: a folder written by ``words train`` / :func:`save_vectors`, a word2vec file
            (``.bin`` binary, ``.txt``/``.vec`` text with a ``V dim`` header), a GloVe
            text file (no header) or a Facebook fastText ``.bin``.
        kind: ``"w2v"``, ``"fasttext"``, ``"glove"`` or ``"auto"`` (from the folder's
            manifest, else the file: a first line of two integers is word2vec text).

    Raises:
        DataError: no such path; a folder of another format (an embedding store, a
            model2vec or sentence-transformers folder: names the encoder to use instead);
            a file that is not in the format asked for.
    """
    path = Path(path)
    if not path.exists():
        raise DataError(
            f"{path}: no such vectors file or folder; train one with `reprlearn words train`"
        )
    if path.is_dir():
        return _load_folder(path, kind)
    return _load_file(path, kind)


def _load_folder(path: Path, kind: str) -> Any:
    if not (path / "vectors.npz").is_file() or not (path / "vocab.txt").is_file():
        raise DataError(f"{path}: {_what_folder(path)}")
    manifest = read_manifest(path)
    with np.load(path / "vectors.npz", allow_pickle=False) as f:
        arrays = {k: f[k] for k in f.files}
    words = (path / "vocab.txt").read_text(encoding="utf-8").split("\n")[: len(arrays["vectors"])]
    if manifest.get("format") == "fasttext":
        return _fasttext_kv(arrays, words, manifest)
    if kind == "fasttext":
        raise DataError(f"{path} holds word2vec vectors (no subwords): use w2v:{path}")
    from gensim.models import KeyedVectors

    kv = KeyedVectors(arrays["vectors"].shape[1], count=0)
    kv.add_vectors(words, arrays["vectors"])
    if "counts" in arrays:
        kv.expandos["count"] = arrays["counts"].astype(np.int64)
    return kv


def _fasttext_kv(arrays: dict[str, np.ndarray], words: list[str], manifest: dict[str, Any]) -> Any:
    from gensim.models.fasttext import FastTextKeyedVectors

    dim = arrays["vectors"].shape[1]
    kv = FastTextKeyedVectors(dim, manifest["min_n"], manifest["max_n"], manifest["bucket"])
    kv.index_to_key = list(words)
    kv.key_to_index = {w: i for i, w in enumerate(words)}
    kv.vectors = arrays["vectors"]
    kv.vectors_vocab = arrays["vectors_vocab"]
    kv.vectors_ngrams = arrays["vectors_ngrams"]
    kv.expandos["count"] = arrays["counts"].astype(np.int64)
    kv.recalc_char_ngram_buckets()
    return kv


def _what_folder(path: Path) -> str:
    """Why a folder is not a vectors folder, and what to use instead."""
    from reprlearn.encoders.static import is_static_folder

    config = path / "config.json"
    if is_static_folder(path):
        return f"a model2vec static model, not word vectors: use it as static:{path}"
    if (path / "modules.json").is_file():
        return f"a sentence-transformers model, not word vectors: use it as st:{path} (or distill it: reprlearn words distill {path})"
    if config.is_file():
        return f"a transformers model, not word vectors: use it as hf:{path}"
    if (path / "manifest.json").is_file() and (path / "data").is_dir():
        return (
            "an embedding store, not word vectors: give a folder written by `reprlearn words train`"
        )
    return "not a word-vectors folder (expected vectors.npz + vocab.txt from `reprlearn words train`, or a word2vec/GloVe/fastText file)"


def _first_line(path: Path) -> bytes:
    with open(path, "rb") as f:
        return f.readline(4096)


def _load_file(path: Path, kind: str) -> Any:
    from gensim.models import KeyedVectors

    head = _first_line(path)
    has_header = len(head.split()) == 2 and all(t.isdigit() for t in head.split())
    try:
        if kind == "fasttext" and path.suffix == ".bin":
            from gensim.models.fasttext import load_facebook_vectors

            return load_facebook_vectors(str(path))
        if kind == "glove" and has_header:
            raise DataError(
                f"{path}: has a word2vec header line ({head.decode(errors='replace').strip()}); use w2v:{path}"
            )
        if path.suffix == ".bin":
            return KeyedVectors.load_word2vec_format(str(path), binary=True)
        return KeyedVectors.load_word2vec_format(str(path), binary=False, no_header=not has_header)
    except DataError:
        raise
    except (ValueError, UnicodeDecodeError, EOFError) as e:
        fmt = {"glove": "GloVe text (word v1 ... vD per line)", "fasttext": "fastText .bin"}.get(
            kind, "word2vec (binary .bin or text with a 'V dim' header)"
        )
        raise DataError(
            f"{path}: not readable as {fmt} ({type(e).__name__}: {e}); give a file in that format or a folder from `reprlearn words train`"
        ) from None


def static_keyed_vectors(model: Any) -> Any:
    """A model2vec ``StaticModel``'s token table as ``KeyedVectors`` (its tokens, whole
    words and ``##`` word-pieces alike, with their rows), for word-level evaluation."""
    from gensim.models import KeyedVectors

    table = np.asarray(model.embedding, dtype=np.float32)
    kv = KeyedVectors(table.shape[1], count=0)
    kv.add_vectors(list(model.tokens), table)
    return kv


def open_vectors(name: str) -> tuple[Any, dict[str, Any]]:
    """Word vectors for the ``words`` commands, and what they are.

    Args:
        name: a vectors folder/file (:func:`load_vectors`), a model2vec folder, or
            ``static:NAME`` (``static:minilm`` distils once, offline; see the ``static``
            encoder). A ``w2v:``/``fasttext:``/``glove:`` prefix picks the file format.

    Returns:
        ``(kv, info)`` with ``info = {"vectors", "kind", "subwords"}``.

    Raises:
        DataError: see :func:`load_vectors`.
    """
    kind, _, rest = name.partition(":")
    from reprlearn.encoders.static import StaticEncoder, is_static_folder

    if kind == "static" or (Path(name).is_dir() and is_static_folder(Path(name))):
        enc = StaticEncoder(rest if kind == "static" else name)
        return static_keyed_vectors(enc.model), {
            "vectors": enc.source,
            "kind": "static",
            "subwords": False,
        }
    if kind in KINDS and rest:
        name = rest
    else:
        kind = "auto"
    kv = load_vectors(name, kind)
    subwords = hasattr(kv, "vectors_ngrams")
    return kv, {
        "vectors": str(name),
        "kind": "fasttext" if subwords else (kind if kind != "auto" else "w2v"),
        "subwords": subwords,
    }


def fresh_out_dir(out: str | Path, kind: str, overwrite: bool, done: str) -> Path:
    """:func:`reprlearn.outdir.prepare_out_dir` that also refuses a finished folder of the
    same kind (one holding ``done``) unless ``overwrite``: nothing is replaced silently.

    Raises:
        OutputError: ``out`` holds a finished folder and ``overwrite`` is False, or
            anything :func:`prepare_out_dir` refuses.
    """
    from reprlearn.outdir import OutputError, prepare_out_dir

    if not overwrite and (Path(out) / done).is_file():
        raise OutputError(
            f"{out} already holds {kind} ({done}); pass --overwrite to replace it, or choose another --out"
        )
    return prepare_out_dir(out, kind=kind, overwrite=overwrite)
