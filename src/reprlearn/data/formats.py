"""Which format a file or folder is: from ``--format``, its name, or its first bytes.

Files without a known extension are sniffed: Parquet by its magic bytes, JSON Lines by
a leading ``{``, tab-separated tables by a constant number of tabs per line; anything
else is one text per line. Folders are image folders when they hold images (at the top
or in class subfolders), else SentEval-style class files.
"""

from __future__ import annotations

from pathlib import Path

from reprlearn.data.encoding import bom_encoding
from reprlearn.errors import DataError

FORMATS = (
    "auto",
    "lines",
    "senteval",
    "trec",
    "sst2",
    "csv",
    "tsv",
    "jsonl",
    "parquet",
    "imagefolder",
)
TABLE_FORMATS = ("csv", "tsv", "jsonl", "parquet")
SUFFIX_FORMATS = {
    ".txt": "lines",
    ".text": "lines",
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".label": "trec",
}
IMAGE_SUFFIXES = frozenset(
    [
        ".png",
        ".jpg",
        ".jpeg",
        ".gif",
        ".bmp",
        ".tif",
        ".tiff",
        ".webp",
        ".ppm",
        ".pgm",
        ".pbm",
        ".jp2",
        ".ico",
        ".tga",
    ]
)
_SNIFF_BYTES = 64 * 1024
# binary files users pass by mistake: (magic bytes, what it is, the fix)
BINARY_MAGIC = (
    (b"PK\x03\x04", "a ZIP archive (an Excel .xlsx workbook is one)", "export or unzip it to CSV"),
    (b"\xd0\xcf\x11\xe0", "an old Office file (.xls)", "export it as CSV (UTF-8)"),
    (b"\x1f\x8b", "a gzip-compressed file", "decompress it first (gunzip)"),
    (b"BZh", "a bzip2-compressed file", "decompress it first (bunzip2)"),
    (b"\xfd7zXZ", "an xz-compressed file", "decompress it first (unxz)"),
    (b"%PDF", "a PDF document", "extract its text to a .txt or .csv file"),
)


def check_format(fmt: str) -> str:
    """``fmt`` when it is one of :data:`FORMATS`.

    Raises:
        DataError: an unknown format; lists the valid ones.
    """
    if fmt not in FORMATS:
        raise DataError(f"unknown --format {fmt!r}; choose one of {', '.join(FORMATS)}")
    return fmt


def is_image_file(path: Path) -> bool:
    """True for a file whose extension is an image format PIL reads."""
    return path.suffix.lower() in IMAGE_SUFFIXES


def check_not_binary(path: Path) -> None:
    """Raise for a binary file read as text (Excel, archives, PDF), naming what it is.

    Raises:
        DataError: the file starts with a known binary signature; says how to convert it.
    """
    with open(path, "rb") as f:
        head = f.read(8)
    for magic, what, fix in BINARY_MAGIC:
        if head.startswith(magic):
            raise DataError(f"{path}: {what}, not text or a table; {fix} and pass that file")


def guess_file_format(path: Path) -> str:
    """The format of a file from its name (TREC ``*.label``, SST2 ``sentiment-*``, table
    and text extensions), else from its first 64 KiB (see the module docstring).

    Raises:
        DataError: an image file (images are read from their folder).
    """
    if path.name.startswith("sentiment-"):
        return "sst2"
    suffix = path.suffix.lower()
    if suffix in SUFFIX_FORMATS:
        return SUFFIX_FORMATS[suffix]
    if is_image_file(path):
        raise DataError(
            f"{path}: an image file; pass the folder that holds the images (one subfolder per "
            "class, or all images in one folder for unlabelled images)"
        )
    return sniff_format(path)


def sniff_format(path: Path) -> str:
    """``parquet``, ``jsonl``, ``tsv`` or ``lines`` from the first bytes of ``path``."""
    with open(path, "rb") as f:
        head = f.read(_SNIFF_BYTES)
    if head.startswith(b"PAR1"):
        return "parquet"
    encoding = bom_encoding(head) or "utf-8"
    text = head.decode(encoding, errors="replace").lstrip("\ufeff")
    lines = [line for line in text.splitlines()[:-1] or text.splitlines() if line.strip()][:50]
    if not lines:
        return "lines"
    if lines[0].lstrip().startswith("{"):
        return "jsonl"
    tabs = {line.count("\t") for line in lines}
    if len(tabs) == 1 and tabs != {0}:
        return "tsv"
    return "lines"


def folder_has_images(children: list[Path]) -> bool:
    """True when the top-level files of a folder are mostly images (a flat image folder).

    Raises:
        DataError: images and as many or more other files side by side (say which to use).
    """
    files = [p for p in children if p.is_file()]
    images = [p for p in files if is_image_file(p)]
    if images and len(images) <= len(files) / 2:
        others = [p.name for p in files if not is_image_file(p)]
        raise DataError(
            f"{files[0].parent}: holds {len(images)} images (e.g. {images[0].name}) and "
            f"{len(others)} other files (e.g. {others[0]}); put the images in a folder of "
            "their own (one subfolder per class for labels), or the text files in another"
        )
    return bool(images)
