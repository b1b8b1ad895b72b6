"""Output folders that reprlearn writes: marked, safely replaced, and locked while written.

Every command that writes a folder (``embed``, ``pretrain``, ``finetune``, ``compare``,
``index``, ...) goes through this module, so three rules hold everywhere:

* **Only reprlearn's own folders are ever deleted.** A folder written by reprlearn holds
  a marker file ``.reprlearn.json`` (``{"kind": "store" | "run" | "report" | ...}``);
  folders from before the marker existed are recognised by their ``manifest.json``
  (stores) or ``config.json`` (runs). ``--overwrite`` replaces such a folder of the same
  kind and refuses anything else, and never deletes the working directory, one of its
  parents, the home folder or a filesystem root.
* **One writer at a time.** :func:`writer_lock` holds ``.lock`` (the writer's pid, host
  and start time) while a folder is written; a second writer is refused with a message
  naming the first. A lock left by a dead process on this host is stale and taken over.
* **Nothing half-done passes as done**: writers create files atomically (write a
  dot-file, then ``os.replace``), see :func:`write_json_atomic`.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from reprlearn.errors import ReprlearnError

MARKER = ".reprlearn.json"
LOCK = ".lock"
# folders written before the marker existed: a file that only reprlearn writes there
_LEGACY_MARKERS = {"store": "manifest.json", "run": "config.json", "report": "results.json"}


class OutputError(ReprlearnError, ValueError):
    """An output folder that cannot be written or replaced (names the folder and the fix)."""


def write_text_atomic(path: str | Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically (a dot-file renamed into place); the
    parent folder is created."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def write_json_atomic(path: str | Path, obj: Any) -> None:
    """Write ``obj`` as JSON to ``path`` atomically (a dot-file renamed into place)."""
    write_text_atomic(path, json.dumps(obj, indent=1, default=str))


def folder_kind(path: str | Path) -> str | None:
    """The kind of reprlearn folder at ``path`` (``"store"``, ``"run"``, ...), or None
    when ``path`` is not a folder reprlearn wrote."""
    path = Path(path)
    marker = path / MARKER
    if marker.is_file():
        try:
            return str(json.loads(marker.read_text()).get("kind"))
        except (ValueError, AttributeError):
            return None
    for kind, name in _LEGACY_MARKERS.items():
        if (path / name).is_file():
            return kind
    return None


def _protected(path: Path) -> str | None:
    """Why deleting ``path`` is never allowed, or None when it may be deleted."""
    resolved = path.resolve()
    cwd = Path.cwd().resolve()
    if resolved == cwd or resolved in cwd.parents:
        return "it is the working directory or one of its parents"
    if resolved == Path.home().resolve():
        return "it is the home folder"
    if resolved.parent == resolved:
        return "it is a filesystem root"
    return None


def prepare_out_dir(path: str | Path, *, kind: str, overwrite: bool = False) -> Path:
    """Make ``path`` ready to be written as a reprlearn folder of ``kind``.

    An empty or missing folder is created. With ``overwrite``, an existing reprlearn
    folder of the same ``kind`` is deleted first. A non-empty folder that reprlearn did
    not write is never touched. Returns ``path``; the caller then resumes or refuses an
    existing folder of its kind as it sees fit (``overwrite=False`` keeps it).

    Args:
        path: the output folder (``--out``).
        kind: what will be written: ``"store"``, ``"run"``, ``"report"``, ``"index"``, ...
        overwrite: replace an existing reprlearn folder of this kind.

    Raises:
        OutputError: ``path`` is a file; holds files reprlearn did not write; holds a
            reprlearn folder of another kind; or (with ``overwrite``) is the working
            directory, a parent of it, the home folder or a filesystem root.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise OutputError(f"{path} is a file, not a folder: choose another --out")
    if path.is_dir() and any(path.iterdir()):
        found = folder_kind(path)
        if found is None:
            raise OutputError(
                f"{path} exists and holds files reprlearn did not write; reprlearn never "
                "deletes them (not even with --overwrite): choose another --out"
            )
        if found != kind:
            raise OutputError(
                f"{path} holds a reprlearn {found}, not a {kind}: choose another --out"
            )
        if overwrite:
            if (why := _protected(path)) is not None:
                raise OutputError(
                    f"--overwrite refuses to delete {path}: {why}; choose another --out"
                )
            with writer_lock(path):  # refuse while another process writes it
                pass
            shutil.rmtree(path)
    path.mkdir(parents=True, exist_ok=True)
    if not (path / MARKER).is_file():
        write_json_atomic(
            path / MARKER, {"kind": kind, "created": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
        )
    return path


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _read_lock(lock: Path) -> dict[str, Any] | None:
    try:
        return json.loads(lock.read_text())
    except (OSError, ValueError):
        return None


def lock_holder(path: str | Path) -> dict[str, Any] | None:
    """The live writer of ``path`` (``{"pid", "host", "started"}`` from its lock), or None
    when no lock is held or its process died on this host (a stale lock)."""
    held = _read_lock(Path(path) / LOCK)
    if not held:
        return None
    if held.get("host") == socket.gethostname() and isinstance(held.get("pid"), int):
        return held if _pid_alive(held["pid"]) else None
    return held


@contextlib.contextmanager
def writer_lock(path: str | Path) -> Iterator[None]:
    """Hold ``path/.lock`` while writing ``path``; released on exit (also on error).

    The lock file holds ``{"pid", "host", "started"}``. A lock whose process is dead on
    this host is stale and replaced; a live one (or one held on another host) refuses.

    Raises:
        OutputError: another process is writing ``path`` (names its pid, host and start).
    """
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    lock = path / LOCK
    me = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    for _ in range(2):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            held = _read_lock(lock) or {}
            same_host = held.get("host") == me["host"]
            if held.get("pid") == me["pid"] and same_host:  # re-entrant in one process
                yield
                return
            if same_host and isinstance(held.get("pid"), int) and not _pid_alive(held["pid"]):
                lock.unlink(missing_ok=True)  # stale: its writer died (kill -9)
                continue
            raise OutputError(
                f"{path} is being written by another process (pid {held.get('pid')} on "
                f"{held.get('host')}, since {held.get('started')}); wait for it to finish, "
                f"or delete {lock} if that process is gone"
            ) from None
        with os.fdopen(fd, "w") as f:
            json.dump(me, f)
        break
    else:
        raise OutputError(
            f"could not take the lock {lock}; delete it if no reprlearn process writes {path}"
        )
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            if (_read_lock(lock) or {}).get("pid") == me["pid"]:
                lock.unlink()
