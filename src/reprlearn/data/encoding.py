"""Reading text files with a clear error when the encoding is wrong."""

from __future__ import annotations

from pathlib import Path

from reprlearn.errors import DataError


def read_text(path: str | Path, encoding: str = "utf-8") -> str:
    """The whole file decoded with ``encoding``.

    Raises:
        DataError: the bytes are not valid ``encoding``; the message names the file, the
            byte offset and line, and suggests ``--encoding`` (TREC is ISO-8859-1).
        FileNotFoundError: no such file.
    """
    path = Path(path)
    data = path.read_bytes()
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise DataError(
            f"{path}: not valid {encoding} at byte offset {e.start} (line {line}, byte "
            f"0x{data[e.start]:02x}); pass the file's encoding, e.g. --encoding latin-1 "
            "(TREC is ISO-8859-1)"
        ) from None


def read_lines(path: str | Path, encoding: str = "utf-8") -> list[str]:
    """Lines of a text file without line endings; a final empty line is dropped."""
    lines = read_text(path, encoding).splitlines()
    return lines
