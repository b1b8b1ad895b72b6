"""Adapting an encoder into a task model: strategies (freeze, partial, full, lp-ft), heads,
fine-tuning, the classifier run folder, ``predict``, strategy comparison and ``init-stats``."""
