"""``reprlearn finetune``: adapt an encoder into a classifier (freeze / partial / full / lp-ft)."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from reprlearn.cli import _options as o
from reprlearn.cli.app import app, console, fail


def _ints(text: str, option: str) -> tuple[int, ...]:
    try:
        return tuple(int(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise fail(f"{option} expects comma-separated integers, got {text!r}") from None


def _budgets(text: str | None) -> list[int | None]:
    if text is None:
        return [None]
    out: list[int | None] = []
    for x in text.split(","):
        x = x.strip()
        if x == "all":
            out.append(None)
        elif x.isdigit() and int(x) > 0:
            out.append(int(x))
        else:
            raise fail(f"--labels-per-class expects N,M,all (positive integers or all), got {x!r}")
    return out


def _list_blocks(name: str) -> None:
    from reprlearn.adapt.blocks import count_parameters, discover_blocks
    from reprlearn.encoders.base import TorchEncoder
    from reprlearn.encoders.registry import load_encoder

    enc = load_encoder(name)
    if not isinstance(enc, TorchEncoder):
        raise fail(f"{name} is a classical fitted encoder: no blocks (--strategy freeze only)")
    blocks = discover_blocks(enc.model)
    table = Table(title=f"blocks of {name} (input -> output; --unfreeze K trains the last K)")
    for col in ("#", "block", "type", "parameters"):
        table.add_column(col, justify="right" if col in ("#", "parameters") else "left")
    for i, (block_name, block) in enumerate(blocks):
        table.add_row(str(i + 1), block_name, type(block).__name__, f"{count_parameters(block):,}")
    console.print(table)
    console.print(f"{len(blocks)} blocks; {count_parameters(enc.model):,} parameters in all")


def _image_augment(source, recipe, rotate, crop_scale, color_jitter, random_erasing, hflip,
                   mixup, cutmix, switch_prob):  # fmt: skip
    from reprlearn.augment.recipes import image_augment
    from reprlearn.errors import ReprlearnError

    try:
        return image_augment(recipe, rotate=rotate, crop_scale=crop_scale,
                             color_jitter=color_jitter, random_erasing=random_erasing,
                             hflip=hflip, mixup=mixup, cutmix=cutmix, switch_prob=switch_prob,
                             source=source)  # fmt: skip
    except ReprlearnError as e:
        raise fail(str(e)) from None


@app.command()
def finetune(
    source: Annotated[str | None, typer.Argument(help="labelled data: digits, a folder, a CSV...")] = None,
    encoder: Annotated[str | None, typer.Option("--encoder", "-e", help="minilm, ckpt:RUN, timm:..., pca:32")] = None,
    strategy: Annotated[str, typer.Option(help="freeze | partial | full | lp-ft, or a comma list to compare")] = "freeze",
    out: Annotated[str, typer.Option("--out", "-o", help="run folder (report folder for comma lists)")] = "runs/finetune",
    list_blocks: Annotated[str | None, typer.Option("--list-blocks", help="print ENCODER's blocks and exit")] = None,
    unfreeze: Annotated[int, typer.Option(help="partial: top blocks that train")] = 1,
    backbone_lr_mult: Annotated[float, typer.Option(help="backbone LR = lr x this (full, partial)")] = 0.1,
    layer_decay: Annotated[float | None, typer.Option(help="layer-wise LR decay, e.g. 0.75 (BEiT/MAE)")] = None,
    head: Annotated[str, typer.Option(help="linear | mlp")] = "linear",
    head_hidden: Annotated[str, typer.Option(help="mlp widths, e.g. 512,256")] = "512",
    init: Annotated[str, typer.Option(help="xavier | he | normal:STD | zeros | default")] = "default",
    dropout: Annotated[float, typer.Option(help="head dropout probability")] = 0.0,
    norm: Annotated[str, typer.Option(help="mlp head hidden norm: batch | layer | none")] = "none",
    input_norm: Annotated[str, typer.Option(help="standardise features first: batch | none")] = "batch",
    label_smoothing: Annotated[float, typer.Option(help="cross-entropy label smoothing")] = 0.0,
    augment: Annotated[str, typer.Option(help="image recipe for backbone training: none | light | default | strong (freeze ignores it)")] = "none",
    rotate: Annotated[float | None, typer.Option(help="augment: random rotation range, degrees (overrides the recipe)")] = None,
    crop_scale: Annotated[str | None, typer.Option(help="augment: random-resized-crop area range A,B, e.g. 0.5,1")] = None,
    color_jitter: Annotated[float | None, typer.Option(help="augment: brightness/contrast/saturation jitter strength")] = None,
    random_erasing: Annotated[float | None, typer.Option(help="augment: random-erasing probability")] = None,
    hflip: Annotated[float, typer.Option(help="augment: horizontal-flip probability (opt-in; refused for digits)")] = 0.0,
    augment_text: Annotated[str | None, typer.Option(help="texts: eda | backtranslate: --n new training sentences per training text (never validation/test)")] = None,
    n: Annotated[int, typer.Option("--n", help="augment-text: new sentences per training text")] = 4,
    eda_alpha: Annotated[float, typer.Option(help="augment-text eda: share of words changed, in (0, 1]")] = 0.1,
    via: Annotated[str | None, typer.Option(help="augment-text backtranslate: SRC2PIVOT,PIVOT2SRC translation models")] = None,
    mixup: Annotated[float, typer.Option(help="MixUp Beta alpha, e.g. 0.2 (0: off)")] = 0.0,
    cutmix: Annotated[float, typer.Option(help="CutMix Beta alpha, e.g. 1.0 (0: off)")] = 0.0,
    switch_prob: Annotated[float, typer.Option(help="with --mixup and --cutmix: share of batches getting CutMix")] = 0.5,
    epochs: Annotated[int, typer.Option(help="max epochs training the backbone (lp-ft: stage 2)")] = 10,
    lp_epochs: Annotated[int | None, typer.Option(help="head epochs on cached features (freeze, lp-ft stage 1; default max(epochs, 100), early-stopped)")] = None,
    batch_size: Annotated[int, typer.Option(help="items per step")] = 32,
    lr: Annotated[float, typer.Option(help="head peak learning rate (AdamW, warm-up + cosine)")] = 1e-3,
    lp_lr: Annotated[float | None, typer.Option(help="head learning rate on cached features (freeze, lp-ft stage 1; default 10 x --lr)")] = None,
    weight_decay: Annotated[float, typer.Option(help="AdamW weight decay")] = 0.01,
    val_split: Annotated[float, typer.Option(help="stratified validation share (early stopping)")] = 0.1,
    patience: Annotated[int, typer.Option(help="early-stopping patience in epochs (0: off)")] = 5,
    min_steps: Annotated[int, typer.Option(help="at least this many steps (few-shot: more epochs)")] = 100,
    labels_per_class: Annotated[str | None, typer.Option(help="few-shot budget N, or a list 5,20,all")] = None,
    test: Annotated[str | None, typer.Option(help="a separate labelled test source")] = None,
    test_size: Annotated[float, typer.Option(help="held-out test share when no --test")] = 0.2,
    ood: Annotated[str | None, typer.Option(help="compare: a shifted labelled test source")] = None,
    ood_corruption: Annotated[str | None, typer.Option(help="compare: corrupt --ood images, e.g. gaussian_noise:3")] = None,
    format: o.Format = "auto",
    text_column: o.TextColumn = None,
    label_column: o.LabelColumn = None,
    encoding: o.Encoding = None,
    split: o.Split = None,
    data_dir: o.DataDir = None,
    fine_labels: o.FineLabels = False,
    precision: o.Precision = "auto",
    accelerator: Annotated[str, typer.Option(help="auto | cpu | gpu")] = "auto",
    devices: Annotated[str, typer.Option(help="devices (with --accelerator cpu: processes) that train the backbone with DDP")] = "1",
    seed: Annotated[int, typer.Option(help="random seed (splits, weights, order)")] = 0,
    shortcut: Annotated[str, typer.Option(help="none | corner-marker: plant a marker tied to the label in training images, random in test images (a shortcut-learning check; see `explain --inside-mask`)")] = "none",
    cams: Annotated[bool, typer.Option(help="image classifiers: Grad-CAM panel of 16 test images (OUT/cams.png); on shapes, the CAM energy inside the object")] = True,
    resume: Annotated[bool, typer.Option(help="continue the run in --out after an interruption")] = False,
    overwrite: Annotated[bool, typer.Option(help="replace a reprlearn run/report at --out")] = False,
    json_: o.Json = False,
) -> None:  # fmt: skip
    """Adapt ENCODER into a classifier of SOURCE's labels; --out loads with `predict`,
    `load_classifier` and as encoder ckpt:OUT.

    Strategies: freeze (backbone frozen, features cached once, head only), partial (top
    --unfreeze blocks), full (backbone at lr x --backbone-lr-mult, or --layer-decay),
    lp-ft (Kumar et al. 2022: head on frozen features, then everything at a small LR).
    Writes OUT/log.jsonl, curves.png, confusion.png, results.json, config.json +
    safetensors (best epoch on the validation split), last.ckpt (for --resume).

    Comma lists (--strategy freeze,full --labels-per-class 5,all) compare them: OUT gets
    report.html, results.json, results.csv and one run folder per pair under OUT/runs.
    """
    if list_blocks:
        _list_blocks(list_blocks)
        return
    if source is None or encoder is None:
        raise fail("finetune needs SOURCE and --encoder (or --list-blocks ENCODER)")
    o.quiet_datasets()
    aug = _image_augment(source, augment, rotate, crop_scale, color_jitter, random_erasing, hflip,
                         mixup, cutmix, switch_prob)  # fmt: skip
    data = o.data_options(format=format, text_column=text_column, label_column=label_column,
                          encoding=encoding, split=split, data_dir=data_dir, fine_labels=fine_labels)  # fmt: skip
    options = dict(head=head, head_hidden=_ints(head_hidden, "--head-hidden"), init=init,
                   dropout=dropout, norm=norm, input_norm=input_norm,
                   label_smoothing=label_smoothing, augment=aug, epochs=epochs, lp_epochs=lp_epochs,
                   batch_size=batch_size, lr=lr, lp_lr=lp_lr, weight_decay=weight_decay,
                   backbone_lr_mult=backbone_lr_mult, layer_decay=layer_decay, unfreeze=unfreeze,
                   val_split=val_split, patience=patience, min_steps=min_steps, test=test, test_size=test_size,
                   precision=precision, accelerator=accelerator, seed=seed, source_options=data,
                   shortcut=shortcut, cams=cams)  # fmt: skip
    if augment_text:  # bad methods/options fail before any folder is made
        from reprlearn.augment.text import check_text_options

        check_text_options(augment_text, n, eda_alpha)
    options.update(augment_text=augment_text, augment_text_n=n, augment_text_alpha=eda_alpha,
                   augment_text_via=via)  # fmt: skip
    strategies = [s.strip() for s in strategy.split(",") if s.strip()]
    budgets = _budgets(labels_per_class)
    if len(strategies) > 1 or len(budgets) > 1:
        if devices != "1":
            raise fail("--devices trains one run with DDP; compare strategies or budgets "
                       "one at a time with --devices, or drop --devices")  # fmt: skip
        _compare(source, encoder, strategies, budgets, out, ood, ood_corruption, overwrite,
                 json_, data, options)  # fmt: skip
        return
    from reprlearn.adapt.finetune import finetune as run
    from reprlearn.training.distributed import launched_rank

    result = run(source, encoder, strategy=strategies[0], out=out, labels_per_class=budgets[0],
                 resume=resume, overwrite=overwrite, progress=not json_,
                 devices=int(devices) if devices.isdigit() else devices, **options)  # fmt: skip
    if launched_rank() > 0:  # a DDP worker that Lightning's launcher started: rank 0 reports
        return
    if json_:
        console.print_json(json.dumps(result.summary(), default=str))
        return
    table = Table(title=f"finetune {encoder} ({strategies[0]}) on {source}")
    for col in (
        "accuracy [95% CI]",
        "macro-F1 [95% CI]",
        "trainable",
        "best epoch",
        "seconds",
        "peak MiB",
    ):
        table.add_column(col, justify="right")
    table.add_row(str(result.accuracy), str(result.macro_f1), f"{result.trainable_params:,}",
                  str(result.best_epoch), f"{result.seconds:.1f}", f"{result.peak_memory_mb:.0f}")  # fmt: skip
    console.print(table)
    _print_attention(result.attention)
    console.print(
        f"classifier: [bold]{escape(str(result.out))}[/] (reprlearn predict {escape(str(result.out))} SOURCE)"
    )


def _print_attention(att: dict | None) -> None:
    """One line on where the classifier looks (``cams.png``, pointing-game share, flag)."""
    if not att:
        return
    if "skipped" in att:
        console.print(f"[dim]class activation maps skipped: {escape(att['skipped'])}[/]")
        return
    line = f"Grad-CAM of {att['n']} test images: {att['cams']}"
    if att.get("energy_inside") is not None:
        line += (f"; {att['energy_inside']:.0%} of the map energy inside the object "
                 f"(a uniform map: {att['area_share']:.0%})")  # fmt: skip
    if att.get("flag"):
        line += f" [bold red]- {att['flag']}[/]: check for a shortcut (explain --inside-mask)"
    console.print(line)


def _compare(source, encoder, strategies, budgets, out, ood, ood_corruption, overwrite, json_,
             data, options) -> None:  # fmt: skip
    from reprlearn.adapt.report import compare_strategies

    ood_options = dict(data)
    if ood_corruption:
        ood_options["corruption"] = ood_corruption
    report = compare_strategies(source, encoder, strategies, budgets, out=out, ood=ood,
                                ood_options=ood_options, overwrite=overwrite,
                                progress=not json_, **options)  # fmt: skip
    if json_:
        console.print_json(
            json.dumps({"rows": report.results, "conclusion": report.conclusion}, default=str)
        )
        return
    table = Table(title=f"finetune strategies: {encoder} on {source}")
    for col in (
        "strategy",
        "labels/class",
        "accuracy [95% CI]",
        "OOD",
        "trainable",
        "s",
        "peak MiB",
        "CKA",
    ):
        table.add_column(col, justify="right")
    for r in report.results:
        table.add_row(r["strategy"], r["labels_per_class"],
                      f"{r['accuracy']:.3f} [{r['ci_low']:.3f}, {r['ci_high']:.3f}]",
                      "-" if r["ood_accuracy"] is None else f"{r['ood_accuracy']:.3f}",
                      f"{r['trainable_params']:,}", f"{r['seconds']:.1f}", f"{r['peak_memory_mb']:.0f}",
                      "-" if r["feature_cka"] is None else f"{r['feature_cka']:.2f}")  # fmt: skip
    console.print(table)
    console.print(report.conclusion)
    console.print(f"report: [bold]{escape(str(report.out / 'report.html'))}[/]")
