"""The state of a ``pretrain`` run folder, and what ``--resume`` / ``--overwrite`` may do with it.

A run folder is in one of three states:

* ``empty``: no resumable checkpoint yet (new, or killed before its first epoch ended);
* ``unfinished``: ``last.ckpt`` (written atomically at every epoch end) but no exported
  encoder: ``--resume`` continues it, ``--overwrite`` starts afresh;
* ``finished``: the exported encoder (``config.json`` + safetensors, written only when every
  epoch ran) is there: refused unless ``--overwrite``, or ``--resume`` with more epochs.

``settings.json`` records the run's settings when it starts; ``--resume`` with other
settings (batch size, method options, data subset, ...) is refused instead of silently
continuing a different run (:func:`record_settings`).

Folders are prepared through :func:`reprlearn.outdir.prepare_out_dir` (``kind="run"``), so
``--overwrite`` only ever deletes a run folder reprlearn wrote, never the working
directory, a parent or the home folder.
"""

from __future__ import annotations

import json
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


SETTINGS = "settings.json"
# settings a resumed run must share with the run it continues (epochs may grow; precision,
# devices and accelerator may change with the machine)
_FLAGS = {"source": "SOURCE", "source_options": "--split/--data-dir", "method": "--method",
          "method_options": "--set", "backbone": "--backbone", "batch_size": "--batch-size",
          "lr": "--lr", "optimizer": "--optimizer", "seed": "--seed", "max_items": "--max-items",
          "recipe": "--recipe", "image_size": "--image-size", "weight_decay": "weight_decay",
          "warmup_epochs": "warmup_epochs"}  # fmt: skip


def record_settings(out: str | Path, settings: dict, *, resume: bool) -> None:
    """Write ``out/settings.json`` for a new run; for ``resume``, check ``settings`` against it.

    Args:
        out: the run folder.
        settings: the run's settings, keyed as :func:`~reprlearn.training.pretrain.pretrain`'s
            arguments (``method``, ``batch_size``, ``method_options``, ...; JSON values).
        resume: continuing the run in ``out`` (runs from before this file are not checked).

    Raises:
        ReprlearnError: a resumed run with other settings than the run it continues (the
            message names each differing option, its value here and the run's).
    """
    from reprlearn.outdir import write_json_atomic

    path = Path(out) / SETTINGS
    settings = json.loads(json.dumps(settings, default=str))  # as they read back
    if not resume or not path.is_file():
        write_json_atomic(path, settings)
        return
    recorded = json.loads(path.read_text())
    changed = [f"{_FLAGS.get(k, k)} {settings.get(k)!r} (the run used {recorded.get(k)!r})"
               for k in sorted(set(settings) | set(recorded))
               if settings.get(k) != recorded.get(k)]  # fmt: skip
    if changed:
        raise ReprlearnError(
            f"{out}: --resume continues the run with its own settings, but these differ: "
            f"{'; '.join(changed)}. Rerun with the run's values, or pass --overwrite instead "
            "of --resume to start afresh with the new ones"
        )
