"""The one tokeniser of the word level: ``words train``, ``onehot`` and the word-vector
encoders split text the same way, so a trained vocabulary matches what the encoders look up.

Lower-cased runs of letters and digits, keeping inner apostrophes (``"isn't"``,
``"film's"``), as in the pre-tokenised SentEval files. Accents are kept.
"""

from __future__ import annotations

import re

_TOKEN = re.compile(r"[^\W_]+(?:'[^\W_]+)*")


def tokenize(text: str) -> list[str]:
    """``"The bank's river-side!"`` -> ``["the", "bank's", "river", "side"]``."""
    return _TOKEN.findall(text.lower())
