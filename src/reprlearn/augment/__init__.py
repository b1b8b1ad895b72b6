"""Augmentation: image ops and recipes (self-supervised views and supervised training),
MixUp/CutMix, and text augmentation (EDA, back-translation).

Modules are imported on use (no heavy imports here): ``ssl_views`` (batched SSL views),
``recipes`` (supervised torchvision v2 recipes), ``mixing`` (MixUp/CutMix), ``batched``
(kornia batched path), text modules.
"""
