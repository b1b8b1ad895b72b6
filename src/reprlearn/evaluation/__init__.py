"""Evaluation of embedding spaces: probes, clustering, retrieval, STS, published protocols
(SentEval, MTEB), transferability (LogME) and statistics. One concept per module;
:func:`reprlearn.evaluation.probe.probe` runs them on an embedding store."""
