"""Use an embedding space: a FAISS index beside a store, search by text / image / ids,
near-duplicate groups and train/test leakage."""
