"""Fingerprints that tell whether an embedding store is still current for its encoder.

* :func:`weights_fingerprint`: the weights an encoder was loaded from a local folder or
  file (``ckpt:RUN``, ``st:/path``, ``hf:/path``, ``timm:/path``, the ``minilm`` alias's
  installed folder, ...). A retrained or replaced checkpoint changes it, so a store made
  with the old weights is reported stale instead of being served as current.
* :func:`fitted_state_fingerprint`: the fitted state a classical encoder saved beside a
  store (``STORE/encoder``): two stores live in one embedding space only when it matches.

Both are SHA-256 digests of file *contents* (not names of temp folders, not mtimes), so
copying a checkpoint or a store keeps its fingerprint. Hashing runs at about 1 GB/s; a
file's digest is cached in-process by (path, size, mtime), so a second ``embed`` of the
same checkpoint in one process (``compare``) does not read it again.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np

# files that hold an encoder's weights or architecture (the rest of a model folder,
# README, tokenizer vocabularies, logs, resumable training checkpoints, is not hashed)
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".onnx", ".msgpack", ".h5", ".gguf")
CONFIG_NAMES = ("config.json",)
_FILE_DIGESTS: dict[tuple[str, int, int], str] = {}


def file_sha256(path: str | Path) -> str:
    """SHA-256 hex digest of a file's bytes (cached by path, size and mtime)."""
    path = Path(path)
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _FILE_DIGESTS:
        digest = hashlib.sha256()
        with path.open("rb") as f:
            while chunk := f.read(1 << 24):
                digest.update(chunk)
        _FILE_DIGESTS[key] = digest.hexdigest()
    return _FILE_DIGESTS[key]


def weights_location(encoder_name: str) -> Path | None:
    """The local folder or file an encoder name loads its weights from, else None
    (hub ids, torchvision weight enums, classical encoders)."""
    from reprlearn.encoders.registry import _load_families, resolve_name, split_random_weights

    _load_families()  # so aliases resolve (minilm -> st:PATH)
    name = split_random_weights(encoder_name)[0]  # "hf:DIR (random weights)": DIR's config
    family, _, identifier = resolve_name(name).partition(":")
    if not identifier or family == "store":
        return None
    identifier = identifier.removeprefix("local-dir:")  # timm's and open_clip's spelling
    try:
        path = Path(identifier).expanduser()
        return path if path.exists() else None
    except (OSError, ValueError):
        return None


def _weight_files(folder: Path) -> list[Path]:
    """Weight and config files of a model folder: its top level and one level below
    (sentence-transformers keeps ``1_Pooling/config.json`` there)."""
    found = []
    for pattern in ("*", "*/*"):
        for p in folder.glob(pattern):
            if p.is_file() and (p.suffix in WEIGHT_SUFFIXES or p.name in CONFIG_NAMES):
                found.append(p)
    return sorted(found)


def weights_fingerprint(encoder_name: str) -> str | None:
    """SHA-256 over (relative name, size, content digest) of the weight and config files
    the encoder ``encoder_name`` loads from a local folder or file; None when it loads
    from no local path (a hub id, or a classical encoder fitted on the data)."""
    location = weights_location(encoder_name)
    if location is None:
        return None
    files = [location] if location.is_file() else _weight_files(location)
    if not files:
        return None
    digest = hashlib.sha256()
    for f in files:
        rel = f.name if f == location else f.relative_to(location).as_posix()
        digest.update(f"{rel}\0{f.stat().st_size}\0{file_sha256(f)}\n".encode())
    return digest.hexdigest()


def fitted_state_fingerprint(folder: str | Path) -> str | None:
    """SHA-256 of a fitted state saved by :meth:`Encoder.save` in ``folder``
    (``state.json`` + the arrays of ``state.npz``, not the ``.npz`` bytes, which carry a
    time stamp); None when ``folder`` holds no fitted state (an encoder that needs no fit).
    """
    folder = Path(folder)
    if not (folder / "state.json").is_file():
        return None
    config: Any = json.loads((folder / "state.json").read_text())
    digest = hashlib.sha256(json.dumps(config, sort_keys=True).encode())
    if (folder / "state.npz").is_file():
        with np.load(folder / "state.npz", allow_pickle=False) as arrays:
            for key in sorted(arrays.files):
                a = np.ascontiguousarray(arrays[key])
                digest.update(f"{key}\0{a.dtype.str}\0{a.shape}\n".encode())
                digest.update(a.tobytes())
    return digest.hexdigest()
