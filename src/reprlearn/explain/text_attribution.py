"""Which words drove a text classifier's prediction: Integrated Gradients on the token
embeddings, rendered as highlighted text.

Attributions come from captum's ``LayerIntegratedGradients`` (Sundararajan et al. 2017,
"Axiomatic attribution for deep networks") on the transformer's input embedding layer:
the path integral of the gradient of the target logit from a baseline text (every token
replaced by the padding token, the special tokens ``[CLS]``/``[SEP]`` kept) to the input,
summed over the embedding dimension, so each token gets one signed score. Positive scores
push towards the target class, negative ones away from it. By completeness the scores of
a text sum to ``logit(input) - logit(baseline)``; captum's convergence delta (the gap) is
reported per text as a check of the ``n_steps`` approximation.

Works on ``finetune`` run folders whose encoder is a neural text encoder (``st:``,
``hf:`` text, ``minilm``); classical encoders (tfidf, bag, ...) have no gradients.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from reprlearn.errors import DataError, ReprlearnError


@dataclass
class TokenAttribution:
    """The attribution of one text.

    Attributes:
        text: the input; tokens: its word pieces (special and padding tokens removed);
        scores: float ``(len(tokens),)`` signed attributions to the target class, scaled
        so ``max |score| = 1``; target, pred: class names; proba: the predicted class's
        probability; label: the true class name (None when unknown); delta: captum's
        convergence delta (logit units).
    """

    text: str
    tokens: list[str]
    scores: np.ndarray
    target: str
    pred: str
    proba: float
    label: str | None = None
    delta: float = 0.0
    words: list[tuple[str, float]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "label": self.label, "pred": self.pred, "proba": self.proba,
                "target": self.target, "delta": self.delta,
                "words": [[w, round(float(s), 4)] for w, s in self.words]}  # fmt: skip


def _transformer(model: torch.nn.Module) -> torch.nn.Module:
    from transformers import PreTrainedModel

    for module in model.modules():
        if isinstance(module, PreTrainedModel):
            return module
    raise ReprlearnError("the encoder holds no Hugging Face transformer with input embeddings")


def _tokenizer(encoder: Any) -> Any:
    for owner in (encoder, getattr(encoder, "model", None)):
        tok = getattr(owner, "tokenizer", None)
        if tok is not None and hasattr(tok, "convert_ids_to_tokens"):
            return tok
    raise ReprlearnError(f"{encoder.name}: no tokenizer found to show tokens")


def check_text_classifier(clf: Any) -> None:
    """Raise unless ``clf`` is a classifier over a neural text encoder.

    Raises:
        DataError: an image classifier. ReprlearnError: a classical encoder.
    """
    from reprlearn.encoders.base import TorchEncoder

    if clf.modality != "text":
        raise DataError(f"this run classifies {clf.modality}s, not texts; explain it with a CAM "
                        "method on images (explain RUN SOURCE --method gradcam)")  # fmt: skip
    if not isinstance(clf.encoder, TorchEncoder):
        raise ReprlearnError(
            f"encoder {clf.encoder.name!r} is classical (no gradients to attribute); token "
            "attributions need a neural text encoder such as minilm or st:/hf: models"
        )


def _words(tokens: list[str], scores: np.ndarray) -> list[tuple[str, float]]:
    """Merge WordPiece continuations (``##x``) into words; a word's score is the sum."""
    words: list[tuple[str, float]] = []
    for tok, s in zip(tokens, scores, strict=True):
        if tok.startswith("##") and words:
            words[-1] = (words[-1][0] + tok[2:], words[-1][1] + float(s))
        else:
            words.append((tok.lstrip("▁Ġ"), float(s)))
    return words


def attribute_tokens(
    clf: Any,
    texts: Sequence[str],
    *,
    targets: Sequence[int] | None = None,
    labels: Sequence[int | None] | None = None,
    n_steps: int = 32,
    batch_size: int = 8,
) -> list[TokenAttribution]:
    """Integrated-Gradients token attributions of ``clf`` for ``texts``.

    Args:
        clf: a :class:`reprlearn.adapt.classifier.Classifier` over a neural text encoder.
        texts: ``n`` strings. targets: the class index to explain per text (default:
            the predicted class). labels: true class indices (None entries: unknown).
        n_steps: Riemann steps of the path integral (default 32; more = smaller delta).
        batch_size: texts per attribution call (each runs ``n_steps`` forward passes).

    Returns:
        One :class:`TokenAttribution` per text, in order.

    Raises:
        DataError: an image classifier. ReprlearnError: a classical encoder.
    """
    from captum.attr import LayerIntegratedGradients

    check_text_classifier(clf)
    enc, head = clf.encoder, clf.head.float().eval()
    enc.to("cpu", torch.float32)
    layer = _transformer(enc.model).get_input_embeddings()
    tokenizer = _tokenizer(enc)
    special = set(tokenizer.all_special_ids)
    out: list[TokenAttribution] = []
    for start in range(0, len(texts), batch_size):
        chunk = list(texts[start : start + batch_size])
        batch = dict(enc.collate(chunk))
        ids, mask = batch["input_ids"], batch["attention_mask"]
        rest = {k: v for k, v in batch.items() if k not in ("input_ids", "attention_mask")}

        def forward(input_ids, attention_mask, rest=rest):
            n = input_ids.shape[0]  # captum expands the batch n_steps times
            reps = n // len(chunk)  # noqa: B023 (the loop variable is used within the loop)
            extra = {k: v.repeat(reps, *([1] * (v.dim() - 1))) for k, v in rest.items()
                     if isinstance(v, torch.Tensor)}  # fmt: skip
            feats = enc.forward({**extra, "input_ids": input_ids, "attention_mask": attention_mask})
            return head(feats.float())

        with torch.no_grad():
            proba = torch.softmax(forward(ids, mask), dim=1).numpy()
        pred = proba.argmax(1)
        tgt = pred if targets is None else np.asarray(targets[start : start + len(chunk)])
        keep = torch.tensor([[int(t) in special for t in row] for row in ids.tolist()])
        pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
        baseline = torch.where(keep, ids, torch.full_like(ids, pad))
        lig = LayerIntegratedGradients(forward, layer)
        attr, delta = lig.attribute(ids, baselines=baseline, additional_forward_args=(mask,),
                                    target=torch.as_tensor(tgt), n_steps=n_steps,
                                    return_convergence_delta=True)  # fmt: skip
        per_token = attr.sum(-1).detach().numpy()
        for j, text in enumerate(chunk):
            sel = [i for i, t in enumerate(ids[j].tolist()) if mask[j, i] and t not in special]
            toks = tokenizer.convert_ids_to_tokens([int(ids[j, i]) for i in sel])
            raw = per_token[j, sel]
            scores = raw / max(float(np.abs(raw).max(initial=0.0)), 1e-12)
            lab = None if labels is None or labels[start + j] is None else int(labels[start + j])
            out.append(TokenAttribution(
                text=text, tokens=list(toks), scores=scores.astype(np.float32),
                target=clf.label_names[int(tgt[j])], pred=clf.label_names[int(pred[j])],
                proba=float(proba[j, pred[j]]), delta=float(delta[j]),
                label=None if lab is None else clf.label_names[lab],
                words=_words(list(toks), scores)))  # fmt: skip
    return out


def _span(word: str, score: float) -> str:
    colour = "22,163,74" if score >= 0 else "220,38,38"  # green: towards the target; red: against
    return (f'<span style="background:rgba({colour},{min(abs(score), 1.0):.2f})" '
            f'title="{score:+.3f}">{html.escape(word)}</span>')  # fmt: skip


def render_html(items: Sequence[TokenAttribution], title: str = "Token attributions") -> str:
    """A self-contained HTML page: one row per text, words shaded by their attribution."""
    rows = []
    for it in items:
        mark = "" if it.label is None else (" ✓" if it.label == it.pred else " ✗")
        words = " ".join(_span(w, s) for w, s in it.words)
        rows.append(
            f"<tr><td>{html.escape(str(it.label or '?'))}</td>"
            f"<td>{html.escape(it.pred)} ({it.proba:.2f}){mark}</td>"
            f"<td>{html.escape(it.target)}</td><td class=t>{words}</td></tr>"
        )
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:sans-serif;margin:2em}}th{{text-align:left}}td{{padding:.35em .6em;vertical-align:top;
border-bottom:1px solid #ddd}}td.t{{line-height:1.9}}span{{padding:0 .15em;border-radius:3px}}
</style></head><body><h1>{html.escape(title)}</h1>
<p>Integrated Gradients (Sundararajan et al. 2017) on the token embeddings, against a baseline
of padding tokens. <span style="background:rgba(22,163,74,.6)">green</span> pushes towards the
explained class, <span style="background:rgba(220,38,38,.6)">red</span> away from it; shading is
scaled per text (strongest word = full colour). Hover a word for its score.</p>
<table><tr><th>true</th><th>predicted (p)</th><th>explained</th><th>text</th></tr>
{"".join(rows)}</table></body></html>"""


def explain_text(
    run: str | Path,
    source: Any,
    *,
    n: int = 20,
    out: str | Path | None = None,
    target: str = "pred",
    source_options: dict[str, Any] | None = None,
    seed: int = 0,
    n_steps: int = 32,
) -> dict[str, Any]:
    """Token attributions of a text classifier (a ``finetune`` run) on ``n`` items of
    ``source``, written as highlighted text to ``out`` (HTML) when given.

    Args:
        run: a ``finetune`` run folder over a neural text encoder.
        source: a ``load_dataset`` source or Dataset with a ``text`` column (labels
            optional). n: items drawn at random (seeded) from it (default 20).
        target: ``pred`` (explain the predicted class) or ``true`` (the true class;
            needs labels). source_options: ``load_dataset`` options.

    Returns:
        ``{"method": "integrated-gradients", "n", "accuracy" (None without labels),
        "mean_abs_delta", "out", "items": [...]}``.

    Raises:
        DataError: images in the source, ``target="true"`` without labels, unknown labels.
        ReprlearnError: not a text classifier over a neural encoder, a bad ``target``.
    """
    import datasets

    from reprlearn.adapt.classifier import load_classifier
    from reprlearn.adapt.data import align_labels
    from reprlearn.data import load_dataset

    if target not in ("pred", "true"):
        raise ReprlearnError(f"unknown --target {target!r}; choose pred or true")
    clf = load_classifier(run)
    check_text_classifier(clf)
    ds = (
        source
        if isinstance(source, datasets.Dataset)
        else load_dataset(source, **(source_options or {}))
    )
    if "text" not in ds.column_names:
        raise DataError(f"{source}: holds no text column ({', '.join(ds.column_names)}); "
                        f"{run} classifies texts")  # fmt: skip
    rows = np.sort(np.random.default_rng(seed).permutation(ds.num_rows)[: max(1, n)])
    part = ds.select(rows)
    labels = None
    if "label" in part.column_names:
        names = getattr(part.features["label"], "names", None) or sorted(
            {str(v) for v in ds["label"]}
        )
        y = np.asarray(part["label"])
        labels = list(align_labels(y, list(names), clf.label_names, str(source)))
    if target == "true" and labels is None:
        raise DataError(f"--target true needs labels; {source} has none (pass --label-column)")
    items = attribute_tokens(clf, list(part["text"]), labels=labels, n_steps=n_steps,
                             targets=labels if target == "true" else None)  # fmt: skip
    if out is not None:
        from reprlearn.outdir import write_text_atomic

        write_text_atomic(Path(out), render_html(items, f"Token attributions — {Path(run).name}"))
    acc = None if labels is None else float(np.mean([it.label == it.pred for it in items]))
    return {"method": "integrated-gradients", "n": len(items), "accuracy": acc,
            "mean_abs_delta": float(np.mean([abs(it.delta) for it in items])),
            "out": None if out is None else str(out), "items": [it.to_dict() for it in items]}  # fmt: skip
