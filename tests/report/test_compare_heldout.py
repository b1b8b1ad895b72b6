"""compare --test: fit each encoder on the training source, embed the test source in the
same space, score every protocol train -> test (issue 15 item 1)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from reprlearn.report.compare import compare
from reprlearn.store import EmbeddingStore

TEMPLATES = {
    "book": "please book a {} table for {} people at the {} restaurant tonight",
    "weather": "will it {} or be {} in the {} city tomorrow morning",
    "music": "play some {} songs by the {} band from the {} album",
}
FILLERS = ["red", "quiet", "old", "new", "small", "big", "sunny", "jazz", "late", "early"]


def _write(path, n_per_class: int, seed: int):
    rng = np.random.default_rng(seed)
    rows = ["text,label"]
    for label, template in TEMPLATES.items():
        for _ in range(n_per_class):
            rows.append(f"{template.format(*rng.choice(FILLERS, 3))},{label}")
    path.write_text("\n".join(rows) + "\n")
    return str(path)


@pytest.fixture(scope="module")
def heldout(tmp_path_factory):
    root = tmp_path_factory.mktemp("heldout")
    train, test = _write(root / "train.csv", 30, 0), _write(root / "test.csv", 10, 1)
    result = compare(train, ["tfidf", "lsa:8"], root / "r", test=test,
                     protocols="linear,knn,kmeans,label-efficiency", budgets=(2, "all"),
                     repeats=2, progress=False)  # fmt: skip
    return result, root


def test_probes_train_on_the_source_and_score_the_test_source(heldout):
    result, root = heldout
    assert result.test.endswith("test.csv") and result.n_items == 90 and result.n_test == 30
    for report in result.ranking:
        assert report.linear["n_train"] == 90 and report.linear["n_test"] == 30
        assert report.accuracy > 0.8, report.encoder  # same space: held-out items land right
        assert report.measured_on["kmeans"] == "all items of the test store"
        assert len(report.test_correct) == 30
    data = json.loads((root / "r" / "results.json").read_text())
    assert data["test"] == result.test and data["n_test"] == 30
    assert "scored on" in data["protocol_note"]
    assert set(data["stage_seconds"]["lsa:8"]) >= {"embed", "embed_test", "linear", "knn"}
    assert "held-out" in (root / "r" / "report.html").read_text()
    text = str(result)  # print(reprlearn.compare(...)): the table, not a rich object's repr
    assert "compare:" in text and "Conclusion." in text and "object at" not in text


def test_the_test_source_is_embedded_with_the_training_fit(heldout):
    from reprlearn.store import same_space

    _, root = heldout
    for name in ("tfidf", "lsa-8"):
        train = EmbeddingStore.open(root / "r" / "embeddings" / name)
        test = EmbeddingStore.open(root / "r" / "embeddings" / f"{name}--test")
        assert test.manifest["fitted_from"] and test.dim == train.dim
        assert same_space(train, test) is None


def test_a_test_file_missing_a_class_is_scored_on_the_training_classes(tmp_path):
    """Read separately, a test file without the 'book' class numbers its classes
    differently; labels are matched by name, so scores stay right."""
    train = _write(tmp_path / "train.csv", 30, 0)
    full = _write(tmp_path / "test_all.csv", 10, 1)
    lines = [ln for ln in Path(full).read_text().splitlines() if not ln.endswith(",book")]
    (tmp_path / "test.csv").write_text("\n".join(lines) + "\n")
    result = compare(train, ["tfidf"], tmp_path / "r", test=str(tmp_path / "test.csv"),
                     protocols="linear", progress=False)  # fmt: skip
    assert result.n_test == 20
    assert result.ranking[0].accuracy > 0.8


def test_a_test_class_unseen_in_training_is_a_clear_error(tmp_path):
    from reprlearn.errors import DataError

    train = _write(tmp_path / "train.csv", 30, 0)
    test = tmp_path / "test.csv"
    test.write_text("text,label\nplay the news now please,news\nplay the news again,news\n")
    with pytest.raises(DataError, match="classes the training data lacks: \\['news'\\]"):
        compare(train, ["tfidf"], tmp_path / "r", test=str(test), protocols="linear",
                progress=False)  # fmt: skip
