"""Keep Lightning's chatter out of reprlearn's output while a Trainer is built and runs.

Lightning prints, through the ``lightning.pytorch`` / ``lightning.fabric`` loggers, banners
("GPU available: False, used: False", "TPU available"), advertising ("💡 Tip: ... litlogger
/ litmodels"), "Loading `train_dataloader` to estimate number of stepping batches." and
"`Trainer.fit` stopped: `max_epochs=3` reached.", and warns about its own deprecations.
None of it is for a reprlearn user, whose output is reprlearn's progress table;
warnings about their run (collapse, ...) are reprlearn's own and still print.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Iterator

_LOGGERS = ("lightning.pytorch", "lightning.fabric", "lightning", "pytorch_lightning")


@contextlib.contextmanager
def quiet_lightning() -> Iterator[None]:
    """Within the block: Lightning's info logs off and its deprecation and "possible user"
    warnings ignored; errors and other warnings still show. Restores the levels after."""
    from lightning.fabric.utilities.warnings import PossibleUserWarning

    loggers = [logging.getLogger(name) for name in _LOGGERS]
    levels = [log.level for log in loggers]
    try:
        for log in loggers:
            log.setLevel(logging.WARNING)
        with warnings.catch_warnings():
            for category in (DeprecationWarning, FutureWarning, PossibleUserWarning):
                warnings.filterwarnings("ignore", category=category)
            yield
    finally:
        for log, level in zip(loggers, levels, strict=True):
            log.setLevel(level)
