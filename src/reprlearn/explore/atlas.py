"""Apple's embedding-atlas on reprlearn's table (optional: ``pip install reprlearn[explore]``).

reprlearn hands embedding-atlas its own coordinates and neighbours, so nothing is
re-embedded or re-projected: ``embedding-atlas TABLE --x x --y y --neighbors neighbors
--text text --disable-projection`` (serve on 127.0.0.1), or ``--export-application
DIR`` (a standalone site).

Evidence that it cannot draw the map everywhere (checked with embedding-atlas 0.26.0 and
headless Chromium 156 on a CPU-only machine): its server and data table work offline,
but the embedding view calls ``navigator.gpu.requestAdapter()`` and needs the WebGPU
``shader-f16`` feature. Without WebGPU it logs "Could not request WebGPU adapter" and
shows "WebGPU is unavailable. This view requires a browser with WebGPU support."; with
SwiftShader's WebGPU adapter (``--enable-unsafe-webgpu``) it logs "WebGPU adapter does
not support required features: shader-f16". Hence ``explore`` defaults to reprlearn's
WebGL page (``reprlearn.explore.page``) and offers embedding-atlas as ``--engine atlas``
for browsers with WebGPU.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from reprlearn.errors import ReprlearnError
from reprlearn.explore.table import ExploreTable


class MissingAtlasError(ReprlearnError, ImportError):
    """embedding-atlas is not installed; the message gives the pip command."""


def atlas_command(table_path: Path, table: ExploreTable) -> list[str]:
    """The ``embedding-atlas`` command line for reprlearn's table (no re-embedding)."""
    exe = shutil.which("embedding-atlas") or str(Path(sys.executable).parent / "embedding-atlas")
    if not Path(exe).exists():
        raise MissingAtlasError(
            "--engine atlas needs embedding-atlas, which is not installed: "
            "pip install reprlearn[explore] (or use the default --engine page)"
        )
    cmd = [exe, str(table_path), "--x", "x", "--y", "y", "--neighbors", "neighbors",
           "--disable-projection"]  # fmt: skip
    if table.modality == "image":
        cmd += ["--image", "image"]
    elif "text" in table.frame:
        cmd += ["--text", "text"]
    return cmd


def run_atlas(
    table_path: Path, table: ExploreTable, *, host: str, port: int, export: Path | None
) -> int:
    """Serve embedding-atlas on ``host:port`` until stopped, or export its standalone
    application into ``export``; returns its exit code."""
    cmd = atlas_command(table_path, table)
    if export is not None:
        cmd += ["--export-application", str(export)]
    else:
        cmd += ["--host", host, "--port", str(port)]
    return subprocess.call(cmd)
