"""The words commands end to end, as a user runs them."""

import json

import pytest
from typer.testing import CliRunner

import reprlearn.cli
from reprlearn.cli.app import app

reprlearn.cli._register_commands()
runner = CliRunner()


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def run_main(*args, monkeypatch, capsys):
    """Through main(), which turns user errors into one line and exit code 2."""
    monkeypatch.setattr("sys.argv", ["reprlearn", *map(str, args)])
    with pytest.raises(SystemExit) as e:
        reprlearn.cli.main()
    return e.value.code, capsys.readouterr()


@pytest.fixture(scope="module")
def vectors(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("words")
    corpus = tmp / "corpus.txt"
    lines = [
        "the king and the queen ruled",
        "the man and the woman walked",
        "a good film and a good movie",
    ]
    corpus.write_text("\n".join(lines * 40) + "\n")
    r = run(
        "words",
        "train",
        corpus,
        "--out",
        tmp / "vec",
        "--dim",
        16,
        "--min-count",
        1,
        "--epochs",
        2,
        "--json",
    )
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["vocab_size"] == 12
    return tmp / "vec"


def test_neighbors_analogy_eval_map(vectors, tmp_path):
    r = run("words", "neighbors", vectors, "film", "--k", 3, "--json")
    assert r.exit_code == 0, r.output
    assert len(json.loads(r.stdout)["neighbors"]) == 3
    r = run("words", "analogy", vectors, "king", "man", "woman", "--expected", "queen", "--json")
    assert r.exit_code == 0, r.output
    both = json.loads(r.stdout)
    assert [x["method"] for x in both] == ["3cosadd", "3cosmul"]
    assert all(isinstance(x["rank"], int) for x in both)
    r = run("words", "analogy", vectors, "king", "man", "woman", "--expected", "queen")
    assert "expected 'queen': rank" in r.output
    r = run("words", "eval", vectors, "--json")
    assert r.exit_code == 0, r.output
    ev = json.loads(r.stdout)
    assert ev["analogies"]["questions"] == 19544 and "wordsim353" in ev["pairs"]
    png = tmp_path / "map.png"
    r = run("words", "map", vectors, "king", "queen", "man", "woman", "--out", png)
    assert r.exit_code == 0 and png.stat().st_size > 1000


def test_unknown_word_is_one_error_line(vectors, monkeypatch, capsys):
    code, out = run_main(
        "words", "neighbors", vectors, "filmm", monkeypatch=monkeypatch, capsys=capsys
    )
    assert code == 2
    assert "not in the vocabulary" in out.err and "film" in out.err and "Traceback" not in out.err


def test_context_csv_with_senses(tmp_path):
    csv = tmp_path / "bank.csv"
    csv.write_text(
        "text,sense\n"
        "We sat on the bank of the river.,river\nThe river bank was muddy.,river\n"
        "Reeds grew on the bank by the stream.,river\nThe bank gave me a loan.,money\n"
        "I paid cash into the bank.,money\nThe bank raised interest rates.,money\n"
    )
    out = tmp_path / "bank"
    r = run(
        "words",
        "context",
        "minilm",
        "bank",
        "--sentences",
        csv,
        "--sense-column",
        "sense",
        "--out",
        out,
        "--json",
    )
    assert r.exit_code == 0, r.output
    summary = json.loads(r.stdout)
    assert summary["word"] == "bank" and summary["n"] == 6 and summary["purity"] == 1.0
    assert 0 <= summary["same_sense_accuracy"] <= 1
    for name in ("similarity.png", "map.png", "senses.csv", "result.json"):
        assert (out / name).is_file()
    assert "sense" in (out / "senses.csv").read_text().splitlines()[0]


def test_compare_with_word_level_encoders(vectors, tmp_path):
    """onehot and w2v: in compare, like any encoder."""
    f = tmp_path / "reviews.csv"
    rows = (
        ["text,label"]
        + [f"a good film {i},pos" for i in range(20)]
        + [f"the man walked {i},neg" for i in range(20)]
    )
    f.write_text("\n".join(rows) + "\n")
    r = run(
        "compare",
        f,
        "--encoders",
        f"onehot,w2v:{vectors},w2v:{vectors}:sif",
        "--out",
        tmp_path / "rep",
        "--device",
        "cpu",
    )
    assert r.exit_code == 0, r.output
    results = json.loads((tmp_path / "rep" / "results.json").read_text())
    assert len(results["ranking"]) == 3


def test_distill_needs_a_local_folder(tmp_path, monkeypatch, capsys):
    code, out = run_main(
        "words",
        "distill",
        "st:someone/some-model",
        "--out",
        tmp_path / "s",
        monkeypatch=monkeypatch,
        capsys=capsys,
    )
    assert code == 2 and "local model folder" in out.err


def test_neighbors_table_prints_words_with_brackets_as_they_are(tmp_path):
    glove = tmp_path / "vectors.txt"
    glove.write_text("cat 1.0 0.1 0.0\n[bold]kitten 0.9 0.2 0.0\ndog 0.0 1.0 0.1\n")
    r = run("words", "neighbors", glove, "cat", "--k", 2)
    assert r.exit_code == 0, r.output
    assert "[bold]kitten" in r.stdout
