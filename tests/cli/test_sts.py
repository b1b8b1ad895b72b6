import json

import numpy as np
from typer.testing import CliRunner

import reprlearn.cli
from reprlearn.cli.app import app

reprlearn.cli._register_commands()
runner = CliRunner()

TEXT = "a red fox jumps over the lazy brown dog near old river banks under grey autumn skies"
WORDS = TEXT.split()


def write_pairs(path, sep=","):
    rng = np.random.default_rng(0)
    lines = [sep.join(["first", "second", "similarity"])]
    for i in range(40):
        a = list(rng.choice(WORDS, size=8, replace=False))
        keep = i % 5
        rest = [w for w in WORDS if w not in a]
        b = a[: 2 * keep] + list(rng.choice(rest, size=8 - 2 * keep, replace=False))
        lines.append(sep.join([" ".join(a), " ".join(b), str(keep)]))
    path.write_text("\n".join(lines) + "\n")


def test_sts_json(tmp_path):
    pairs = tmp_path / "pairs.tsv"
    write_pairs(pairs, "\t")
    args = ["sts", str(pairs), "--encoder", "tfidf", "--sentence1-column", "first"]
    args += [
        "--sentence2-column",
        "second",
        "--score-column",
        "similarity",
        "--json",
        "--device",
        "cpu",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["n_pairs"] == 40 and payload["spearman"]["value"] > 70
    assert payload["encoder"] == "tfidf"


def test_sts_missing_column_lists_columns(tmp_path):
    pairs = tmp_path / "pairs.csv"
    write_pairs(pairs)
    result = runner.invoke(app, ["sts", str(pairs), "--encoder", "tfidf"])
    assert result.exit_code == 2
    assert (
        "no column 'sentence1'" in result.output
        and "'first', 'second', 'similarity'" in result.output
    )


def test_sts_unknown_encoder(tmp_path):
    pairs = tmp_path / "pairs.csv"
    write_pairs(pairs)
    args = ["sts", str(pairs), "--encoder", "nope:1", "--sentence1-column", "first"]
    args += ["--sentence2-column", "second", "--score-column", "similarity"]
    result = runner.invoke(app, args)
    assert result.exit_code == 2 and "unknown encoder" in result.output


def _args(pairs):
    return ["sts", str(pairs), "--encoder", "tfidf", "--sentence1-column", "first",
            "--sentence2-column", "second", "--score-column", "similarity"]  # fmt: skip


def test_sts_empty_text_names_the_row(tmp_path):
    pairs = tmp_path / "pairs.csv"
    write_pairs(pairs)
    lines = pairs.read_text().splitlines()
    lines[3] = "," + lines[3].split(",", 1)[1]  # data row 3: empty first sentence
    pairs.write_text("\n".join(lines) + "\n")
    result = runner.invoke(app, _args(pairs))
    assert result.exit_code == 2
    assert "row 3 (of the data, after the header) has an empty text in column 'first'" in (
        " ".join(result.output.split())
    )


def test_sts_constant_gold_scores_say_the_correlation_is_undefined(tmp_path):
    pairs = tmp_path / "pairs.csv"
    write_pairs(pairs)
    lines = pairs.read_text().splitlines()
    lines[1:] = [line.rsplit(",", 1)[0] + ",3" for line in lines[1:]]
    pairs.write_text("\n".join(lines) + "\n")
    result = runner.invoke(app, [*_args(pairs), "--json"])
    assert result.exit_code == 2 and "NaN" not in result.output
    assert "all 40 gold scores are 3: the correlation with a constant is undefined" in (
        " ".join(result.output.split())
    )


def test_sts_bad_batch_size_fails_before_work(tmp_path):
    pairs = tmp_path / "pairs.csv"
    write_pairs(pairs)
    result = runner.invoke(app, [*_args(pairs), "--batch-size", "-5"])
    assert result.exit_code == 2 and "--batch-size -5" in result.output
