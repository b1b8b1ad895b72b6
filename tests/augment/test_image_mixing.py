"""MixUp/CutMix: soft labels sum to 1 and their weights match the mixed pixels."""

from __future__ import annotations

import pytest
import torch

from reprlearn.augment.mixing import BatchMixing, label_weights
from reprlearn.augment.recipes import image_augment


def _batch(seed=0, b=8, n_classes=4):
    g = torch.Generator().manual_seed(seed)
    # constant images: image i is filled with value i + 1, so a pixel tells its source
    x = (torch.arange(b, dtype=torch.float32) + 1).view(b, 1, 1, 1).expand(b, 3, 16, 16).clone()
    y = torch.randperm(b, generator=g) % n_classes
    return x, y


@pytest.mark.parametrize("seed", range(5))
def test_mixup_weights_sum_to_one_and_match_the_blend(seed):
    torch.manual_seed(seed)
    x, y = _batch(seed)
    mix = BatchMixing(image_augment(mixup=0.4), n_classes=4)
    xm, ym = mix(x, y)
    assert ym.shape == (8, 4) and torch.allclose(ym.sum(1), torch.ones(8))
    lam = (xm[:, 0, 0, 0] - x.roll(1, 0)[:, 0, 0, 0]) / (x[:, 0, 0, 0] - x.roll(1, 0)[:, 0, 0, 0])
    assert torch.allclose(lam, lam[0].expand(8), atol=1e-5)  # one lam per batch
    for i in range(8):
        expect = torch.zeros(4)
        expect[y[i]] += lam[i]
        expect[y[i - 1]] += 1 - lam[i]
        assert torch.allclose(ym[i], expect, atol=1e-5)
    assert mix.last["op"] == "mixup"


@pytest.mark.parametrize("seed", range(5))
def test_cutmix_weights_match_the_pasted_area(seed):
    torch.manual_seed(seed)
    x, y = _batch(seed)
    xm, ym = BatchMixing(image_augment(cutmix=1.0), n_classes=4)(x, y)
    assert torch.allclose(ym.sum(1), torch.ones(8))
    for i in range(8):
        own = (xm[i] == x[i, 0, 0, 0]).float().mean()  # share of image i's own pixels
        expect = torch.zeros(4)
        expect[y[i]] += own
        expect[y[i - 1]] += 1 - own
        assert torch.allclose(ym[i], expect, atol=1e-6)


def test_switch_prob_picks_cutmix_at_that_rate_and_label_smoothing_composes():
    torch.manual_seed(0)
    mix = BatchMixing(image_augment(mixup=0.2, cutmix=1.0, switch_prob=0.25), n_classes=4)
    ops = []
    for s in range(400):
        x, y = _batch(s)
        mix(x, y)
        ops.append(mix.last["op"])
    assert 0.18 < ops.count("cutmix") / 400 < 0.32
    x, y = _batch(1)
    _, ym = mix(x, y)
    logits = torch.randn(8, 4)
    smoothed = torch.nn.CrossEntropyLoss(label_smoothing=0.1)(logits, ym)
    manual = -(((1 - 0.1) * ym + 0.1 / 4) * logits.log_softmax(1)).sum(1).mean()
    assert torch.allclose(smoothed, manual, atol=1e-6)


def test_label_weights_for_captions():
    soft = torch.tensor([[0.7, 0.3, 0.0], [0.0, 1.0, 0.0]])
    assert label_weights(soft) == [[(0, pytest.approx(0.7)), (1, pytest.approx(0.3))], [(1, 1.0)]]


def test_refuses_nothing_to_mix():
    with pytest.raises(ValueError, match="--mixup or --cutmix"):
        BatchMixing(image_augment("default"), n_classes=4)
