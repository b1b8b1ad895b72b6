"""Weighted kNN classification of embeddings, the monitor's accuracy during pretraining.

Source: Wu et al. 2018 ("Unsupervised Feature Learning via Non-Parametric Instance
Discrimination", Eq. 7) as used in DINO's ``eval_knn.py``: cosine similarity, the k
nearest training embeddings vote with weight ``exp(sim / T)``, T = 0.07.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


@torch.no_grad()
def knn_predict(
    query: torch.Tensor,
    bank: torch.Tensor,
    bank_labels: torch.Tensor,
    num_classes: int,
    k: int = 20,
    temperature: float = 0.07,
    chunk: int = 1024,
) -> torch.Tensor:
    """Predicted class of each query: int64 ``(M,)``.

    Args:
        query: ``(M, d)`` embeddings to classify.
        bank: ``(N, d)`` labelled embeddings (the memory bank); ``bank_labels (N,)`` int64.
        num_classes: number of classes.
        k: neighbours (clipped to N); 20 (DINO) or 200 (lightly's CIFAR benchmarks).
        temperature: vote temperature T.
    """
    bank = F.normalize(bank.float(), dim=1)
    k = min(k, len(bank))
    preds = []
    for q in F.normalize(query.float(), dim=1).split(chunk):
        sim, idx = (q @ bank.T).topk(k, dim=1)
        votes = torch.zeros(len(q), num_classes, device=q.device)
        votes.scatter_add_(1, bank_labels[idx], (sim / temperature).exp())
        preds.append(votes.argmax(1))
    return torch.cat(preds)


def knn_accuracy(
    query: torch.Tensor,
    query_labels: torch.Tensor,
    bank: torch.Tensor,
    bank_labels: torch.Tensor,
    k: int = 20,
    temperature: float = 0.07,
) -> float:
    """Fraction of ``query`` items whose :func:`knn_predict` class equals ``query_labels``."""
    num_classes = int(max(bank_labels.max(), query_labels.max())) + 1
    pred = knn_predict(query, bank, bank_labels.to(bank.device), num_classes, k, temperature)
    return float((pred.cpu() == query_labels.cpu()).float().mean())
