"""The state of a ``pretrain`` run folder, and what ``--resume`` / ``--overwrite`` may do with it.

A run folder is in one of three states:

* ``empty``: no resumable checkpoint yet (new, or killed before its first epoch ended);
* ``unfinished``: ``last.ckpt`` (written atomically at every epoch end) but no exported
  encoder: ``--resume`` continues it, ``--overwrite`` starts afresh;
* ``finished``: the exported encoder (``config.json`` + safetensors, written only when every
  epoch ran) is there: refused unless ``--overwrite``, or ``--resume`` with more epochs.

Folders are prepared through :func:`reprlearn.outdir.prepare_out_dir` (``kind="run"``), so
``--overwrite`` only ever deletes a run folder reprlearn wrote, never the working
directory, a parent or the home folder.
"""

from __future__ import annotations

from pathlib import Path

from reprlearn.errors import ReprlearnError
from reprlearn.outdir import prepare_out_dir

RESUME_CKPT = "last.ckpt"
EXPORTED = "config.json"


def run_state(out: str | Path) -> str:
    """``"finished"``, ``"unfinished"`` or ``"empty"`` (see the module docstring)."""
    out = Path(out)
    if (out / EXPORTED).is_file():
        return "finished"
    if (out / RESUME_CKPT).is_file():
        return "unfinished"
    return "empty"


def prepare_run_folder(out: str | Path, *, resume: bool, overwrite: bool, epochs: int) -> Path:
    """Check that ``out`` may be written as asked and create it.

    Args:
        out: the run folder (``--out``).
        resume: continue the run in ``out`` (``--resume``).
        overwrite: delete the run in ``out`` first (``--overwrite``).
        epochs: the total epochs asked for (a finished run resumes only to train on).

    Returns:
        ``out``, created; with ``resume``, its ``last.ckpt`` was checked to load safely
        (tensors and plain values only).

    Raises:
        ReprlearnError: ``resume`` and ``overwrite`` together; ``resume`` with nothing to
            resume or a finished run that already has ``epochs`` epochs; an unfinished or
            finished run without ``resume``/``overwrite`` (each message names the fix).
        OutputError: ``out`` is not a run folder reprlearn wrote (never deleted).
        StoreError: an unsafe (pickled objects) or unreadable ``last.ckpt``.
    """
    from reprlearn.training.checkpoint import load_resume_checkpoint, read_config

    if resume and overwrite:
        raise ReprlearnError(
            "--resume continues the run in --out and --overwrite deletes it: pass only one"
        )
    out = prepare_out_dir(out, kind="run", overwrite=overwrite)
    state = run_state(out)
    if not resume:
        if state == "unfinished":
            raise ReprlearnError(
                f"{out} holds an unfinished run: pass --resume to continue it, or --overwrite "
                "to start afresh"
            )
        if state == "finished":
            raise ReprlearnError(
                f"{out} already holds a finished run: pass --overwrite to replace it, "
                "--resume with more --epochs to train it further, or choose another --out"
            )
        return out
    if state == "empty" or not (out / RESUME_CKPT).is_file():
        raise ReprlearnError(
            f"{out}: nothing to resume (no {RESUME_CKPT}: no epoch finished there); drop "
            "--resume to start"
        )
    load_resume_checkpoint(out / RESUME_CKPT)
    if state == "finished":
        done = int(read_config(out).get("epoch", -1)) + 1
        if epochs <= done:
            raise ReprlearnError(
                f"{out}: the run already finished its {done} epochs; pass --epochs larger "
                f"than {done} to train it further, or --overwrite to start afresh"
            )
    return out
