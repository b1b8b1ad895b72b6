"""Stages of a long run, shown on the terminal as they happen and timed.

``compare`` runs several minutes per encoder on real data (embedding, inspection, each
probe, the label-efficiency curve). :class:`StageLog` wraps each stage: while it runs a
spinner names it (on a terminal), when it ends one line gives its wall time, and the
seconds are kept per encoder for ``results.json``.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

from rich.console import Console
from rich.markup import escape

# stage key -> words on the terminal
STAGE_NAMES = {
    "embed": "embed",
    "embed_test": "embed the test source",
    "inspect": "inspect (similarity, neighbours, map, geometry)",
    "load": "load and split the embeddings",
    "linear": "linear probe",
    "confusion": "confusion matrix (figure and tables)",
    "knn": "kNN probe",
    "kmeans": "k-means clustering",
    "mteb": "MTEB classification",
    "logme": "LogME",
    "senteval": "SentEval",
    "label-efficiency": "label efficiency",
}


class StageLog:
    """Context-manager factory timing stages: ``with log("tfidf", "knn"): ...``.

    Args:
        enabled: print the stages (a spinner while running, a line with the seconds
            after); when False only the seconds are recorded.
        console: where to print (default: a new stdout console).

    Attributes:
        seconds: ``{encoder: {stage: seconds}}``, wall time in seconds (3 decimals).
    """

    def __init__(self, enabled: bool = True, console: Console | None = None) -> None:
        self.enabled = enabled
        self.console = console or Console(emoji=False, highlight=False)
        self.seconds: dict[str, dict[str, float]] = {}

    @contextlib.contextmanager
    def __call__(self, encoder: str, stage: str, spinner: bool = True) -> Iterator[None]:
        """Time ``stage`` of ``encoder``; ``spinner=False`` for stages that show their
        own progress bar (one live display at a time on rich < 14)."""
        words = f"{escape(encoder)}: {STAGE_NAMES.get(stage, stage)}"
        status = self.console.status(f"{words} ...") if self.enabled and spinner else None
        start = time.perf_counter()
        if status is not None:
            status.start()
        ok = False
        try:
            yield
            ok = True
        finally:
            took = time.perf_counter() - start
            if status is not None:
                status.stop()
            self.seconds.setdefault(encoder, {})[stage] = round(took, 3)
            if self.enabled:
                state = "[green]done[/]" if ok else "[red]failed[/]"
                self.console.print(f"  {words}: {state} in {took:,.1f} s")

    def total(self, encoder: str) -> float:
        """Seconds of all stages of ``encoder`` so far."""
        return round(sum(self.seconds.get(encoder, {}).values()), 3)
