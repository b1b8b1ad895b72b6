"""Peak memory of a block of work: process RSS on CPU (sampled), max allocated on CUDA."""

from __future__ import annotations

import threading

import psutil
import torch


class PeakMemory:
    """``with PeakMemory() as m: ...`` then ``m.peak_mb`` (MiB).

    On CPU: the peak resident set size of this process, sampled every ``interval`` s
    (the whole process: data, model, activations). On CUDA: ``torch.cuda.max_memory_allocated``
    (reset on entry). ``device`` says which.
    """

    def __init__(self, interval: float = 0.05) -> None:
        self.interval, self.peak_mb, self.device = interval, 0.0, "cpu"
        self._stop = threading.Event()

    def __enter__(self) -> PeakMemory:
        self._proc = psutil.Process()
        self._peak = self._proc.memory_info().rss
        if torch.cuda.is_available():
            torch.cuda.reset_peak_memory_stats()
            self.device = "cuda"
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(self.interval):
            self._peak = max(self._peak, self._proc.memory_info().rss)

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self._peak = max(self._peak, self._proc.memory_info().rss)
        if self.device == "cuda":
            self.peak_mb = torch.cuda.max_memory_allocated() / 2**20
        else:
            self.peak_mb = self._peak / 2**20
