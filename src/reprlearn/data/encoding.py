"""Reading text files with a clear error when the encoding is wrong.

A byte-order mark (BOM) decides the encoding when the user gave none: UTF-8 with BOM,
UTF-16 and UTF-32 files (what Windows tools and Excel's "Unicode text" export write)
are read as such. Unknown codec names and UTF-16 files without a BOM get a message that
names the fix (``--encoding utf-16``), never a bare ``LookupError``.
"""

from __future__ import annotations

import codecs
from pathlib import Path

from reprlearn.errors import DataError

DEFAULT_ENCODING = "utf-8"
# longest first: the UTF-32-LE BOM starts with the UTF-16-LE one
BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
EXAMPLE_CODECS = ("utf-8", "utf-8-sig", "utf-16", "latin-1", "cp1252", "shift_jis", "gb18030")


def check_encoding(encoding: str) -> str:
    """The codec's canonical name (``"UTF8"`` -> ``"utf-8"``).

    Raises:
        DataError: an unknown codec (``--encoding klingon``); lists a few valid names.
    """
    try:
        return codecs.lookup(encoding).name
    except (LookupError, TypeError, ValueError):
        raise DataError(
            f"--encoding {encoding!r}: unknown text encoding; use a Python codec name such as "
            f"{', '.join(EXAMPLE_CODECS)}"
        ) from None


def bom_encoding(data: bytes) -> str | None:
    """The encoding announced by a byte-order mark at the start of ``data``, else None."""
    for bom, name in BOMS:
        if data.startswith(bom):
            return name
    return None


def resolve_encoding(
    path: str | Path, encoding: str | None, default: str = DEFAULT_ENCODING
) -> str:
    """The codec to read ``path`` with: the BOM's when it has one (``--encoding`` may name
    the same Unicode family, e.g. ``utf-8`` for a UTF-8 BOM), else ``encoding``, else
    ``default``.

    Raises:
        DataError: an unknown codec name, or one that contradicts the file's BOM.
    """
    with open(path, "rb") as f:
        bom = bom_encoding(f.read(4))
    if encoding is None:
        return bom or default
    encoding = check_encoding(encoding)
    if bom is None:
        return encoding
    if _family(bom) != _family(encoding):
        raise DataError(
            f"{path}: --encoding {encoding} contradicts the file's {bom} byte-order mark; "
            f"drop --encoding, or pass --encoding {bom}"
        )
    return bom  # the BOM is not part of the first item


def _looks_like_utf16(data: bytes) -> bool:
    """Many NUL bytes on one parity: UTF-16 text (of mostly ASCII) without a BOM."""
    sample = data[:4096]
    if len(sample) < 4:
        return False
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    return max(even, odd) > 0.3 * (len(sample) / 2)


def _utf16_codec(data: bytes) -> str:
    """``utf-16-le`` when the NULs of BOM-less UTF-16 are at odd offsets, else ``-be``."""
    sample = data[:4096]
    return "utf-16-le" if sample[1::2].count(0) >= sample[0::2].count(0) else "utf-16-be"


def _family(codec: str) -> str:
    """``utf-8``, ``utf-16`` or ``utf-32`` for Unicode codecs (any byte order, with or
    without BOM), else the codec itself."""
    for family in ("utf-8", "utf-16", "utf-32"):
        if codec.startswith(family):
            return family
    return codec


def _hint(data: bytes, encoding: str) -> str:
    bom = bom_encoding(data)
    if bom and bom != encoding:
        return f"it starts with a {bom} byte-order mark: drop --encoding, or pass --encoding {bom}"
    if _looks_like_utf16(data) and "16" not in encoding:
        return (
            f"it looks like UTF-16 without a byte-order mark: pass --encoding {_utf16_codec(data)}"
        )
    if encoding.replace("_", "-").lower() in ("utf-8", "utf8", "utf-8-sig"):
        return "pass the file's encoding, e.g. --encoding latin-1 or cp1252 (TREC is ISO-8859-1)"
    return "pass the file's encoding with --encoding (e.g. utf-8, latin-1, utf-16)"


def read_text(
    path: str | Path, encoding: str | None = None, default: str = DEFAULT_ENCODING
) -> str:
    """The whole file decoded with ``encoding`` (default: the BOM's encoding, else
    ``default``, UTF-8 unless the format says otherwise: TREC is ISO-8859-1).

    Raises:
        DataError: an unknown codec, or bytes that are not valid ``encoding``; the message
            names the file, the byte offset and line, and the ``--encoding`` to try.
        FileNotFoundError: no such file.
    """
    path = Path(path)
    data = path.read_bytes()
    encoding = resolve_encoding(path, encoding, default)
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise DataError(
            f"{path}: not valid {encoding} at byte offset {e.start} (line {line}, byte "
            f"0x{data[e.start]:02x}); {_hint(data, encoding)}"
        ) from None
    if "\x00" in text and _looks_like_utf16(data) and "16" not in encoding:
        # ASCII in UTF-16 is valid UTF-8 with a NUL after every letter: never read it so
        raise DataError(f"{path}: not {encoding} text (NUL bytes); {_hint(data, encoding)}")
    return text


def read_lines(
    path: str | Path, encoding: str | None = None, default: str = DEFAULT_ENCODING
) -> list[str]:
    """Lines of a text file without line endings; a final empty line is dropped."""
    return read_text(path, encoding, default).splitlines()
