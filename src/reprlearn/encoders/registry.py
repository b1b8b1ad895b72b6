"""The encoder registry: names ``family:identifier`` -> :class:`Encoder` objects.

A family registers a factory with :func:`register`::

    @register("pca", example="pca:32", description="PCA to D dims", modality="image")
    def _pca(identifier: str, **options) -> Encoder: ...

``load_encoder("pca:32")`` then calls the factory with ``identifier="32"``. Short
aliases (``minilm``) resolve to full names first. Families whose library is missing
still list (``reprlearn encoders`` shows them as not installed).

Families registered with ``needs_download=True`` have pretrained weights: their factory
takes ``random_weights`` (bool) and must load the pretrained weights or raise
:class:`~reprlearn.encoders.base.WeightsUnavailableError`, never fall back to random ones.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from reprlearn.encoders.base import RANDOM_WEIGHTS_SEED, RANDOM_WEIGHTS_SUFFIX, Encoder
from reprlearn.errors import ReprlearnError

Factory = Callable[..., Encoder]


@dataclass(frozen=True)
class Family:
    """A registered encoder family."""

    name: str
    factory: Factory
    description: str
    example: str
    requires: tuple[str, ...] = ()
    needs_download: bool = False

    @property
    def pretrained(self) -> bool:
        """True for families with pretrained weights (they also accept ``random_weights``)."""
        return self.needs_download

    @property
    def installed(self) -> bool:
        """True when every module in ``requires`` can be imported."""
        return all(importlib.util.find_spec(m) is not None for m in self.requires)


FAMILIES: dict[str, Family] = {}
ALIASES: dict[str, Callable[[], str]] = {}


@dataclass
class _Registration:
    name: str
    description: str
    example: str
    requires: tuple[str, ...] = field(default_factory=tuple)
    needs_download: bool = False

    def __call__(self, factory: Factory) -> Factory:
        FAMILIES[self.name] = Family(
            self.name,
            factory,
            self.description,
            self.example,
            self.requires,
            self.needs_download,
        )
        return factory


def register(
    name: str,
    *,
    description: str,
    example: str,
    requires: tuple[str, ...] = (),
    needs_download: bool = False,
) -> _Registration:
    """Decorator registering an encoder family ``name`` (see module docstring)."""
    return _Registration(name, description, example, requires, needs_download)


def alias(short: str, resolve: Callable[[], str]) -> None:
    """Register ``short`` as an alias; ``resolve()`` returns the full name at load time."""
    ALIASES[short] = resolve


def resolve_name(name: str) -> str:
    """Expand an alias (``minilm`` -> ``st:/path/or/hub-id``); other names unchanged."""
    return ALIASES[name]() if name in ALIASES else name


def split_name(name: str) -> tuple[str, str]:
    """``"pca:32"`` -> ``("pca", "32")``; ``"pixels"`` -> ``("pixels", "")``.

    Raises:
        ValueError: unknown family, with the list of known families and aliases.
    """
    _load_families()
    full = resolve_name(name.strip())
    family, _, identifier = full.partition(":")
    if family not in FAMILIES:
        known = ", ".join(sorted(FAMILIES) + sorted(ALIASES))
        close = closest_names(name)
        hint = f" Did you mean {' or '.join(close)}?" if close else ""
        raise ValueError(f"unknown encoder {name!r}.{hint} Known families and aliases: {known}")
    return family, identifier


def closest_names(name: str, n: int = 2) -> list[str]:
    """Registered names closest to a mistyped ``name`` (``"minlm_"`` -> ``["minilm"]``,
    ``"pcaa:16"`` -> ``["pca:16"]``), by :func:`difflib.get_close_matches` over the
    families and aliases; empty when nothing is close."""
    import difflib

    _load_families()
    family, sep, identifier = name.strip().partition(":")
    candidates = sorted(FAMILIES) + sorted(ALIASES)
    matches = difflib.get_close_matches(family.lower(), candidates, n=n, cutoff=0.6)
    return [f"{m}{sep}{identifier}" if m in FAMILIES and identifier else m for m in matches]


def validate_encoder_name(name: str) -> None:
    """Check that ``name`` names a registered family or alias, without loading anything.

    Raises:
        ValueError: an empty name, or an unknown one (with the closest names as a
            suggestion and the list of known families and aliases).
    """
    if not name or not name.strip():
        raise ValueError("empty encoder name: give one such as pca:32, tfidf or minilm")
    split_name(name)


def split_random_weights(name: str) -> tuple[str, bool]:
    """``"timm:resnet18 (random weights)"`` -> ``("timm:resnet18", True)``; other names
    -> ``(name, False)``. The suffix is what :func:`load_encoder` appends to the name of an
    encoder built with random weights, so a store's ``encoder_name`` rebuilds it."""
    name = name.strip()
    if name.endswith(RANDOM_WEIGHTS_SUFFIX):
        return name[: -len(RANDOM_WEIGHTS_SUFFIX)].strip(), True
    return name, False


def has_pretrained_weights(name: str) -> bool:
    """True when ``name`` belongs to a family with pretrained weights (timm, torchvision,
    hf, st, open_clip), i.e. one that accepts ``random_weights=True``."""
    family, _ = split_name(split_random_weights(name)[0])
    return FAMILIES[family].pretrained


def load_encoder(name: str, *, random_weights: bool = False, **options: Any) -> Encoder:
    """Build the encoder called ``name`` (e.g. ``"pca:32"``, ``"minilm"``, ``"timm:resnet18"``).

    Pretrained families (``timm``, ``torchvision``, ``hf``, ``st``, ``open_clip``) load
    their pretrained weights or raise :class:`~reprlearn.encoders.base.WeightsUnavailableError`
    (e.g. offline and not cached) saying how to get them; never random weights silently.

    Args:
        name: ``family:identifier`` or an alias; ``reprlearn encoders`` lists them. A name
            ending in ``" (random weights)"`` (what a random-weight encoder is called in a
            store's manifest) means ``random_weights=True``.
        random_weights: build a pretrained family's architecture with random weights
            (seeded with 0, so the same name gives the same encoder; CLI
            ``--random-weights``). The encoder's name gets the suffix ``" (random
            weights)"`` and its ``describe()`` records ``random_weights: true``.
        **options: family-specific options (e.g. ``modality="text"`` for ``open_clip``).

    Raises:
        ValueError: unknown family or malformed identifier.
        ReprlearnError: ``random_weights`` for a family without pretrained weights.
        WeightsUnavailableError: pretrained weights not available (offline, not cached).
        UnsafeWeightsError: a weights file that is a pickle holding more than tensors.
        ImportError: the family's library is not installed (names the pip package).
    """
    base_name, suffixed = split_random_weights(name)
    random_weights = bool(random_weights or suffixed)
    family, identifier = split_name(base_name)
    fam = FAMILIES[family]
    if random_weights and not fam.pretrained:
        pretrained = ", ".join(f.name for f in families() if f.pretrained)
        raise ReprlearnError(
            f"encoder {base_name!r}: --random-weights applies to families with pretrained "
            f"weights ({pretrained}); {family} has none, so drop the option for it"
        )
    missing = [m for m in fam.requires if importlib.util.find_spec(m) is None]
    if missing:
        raise ImportError(f"encoder {name!r} needs {', '.join(missing)}: pip install {missing[0]}")
    if not fam.pretrained:
        encoder = fam.factory(identifier, **options)
    else:
        encoder = _build_pretrained(fam, identifier, random_weights, options)
        encoder.random_weights = random_weights
    encoder.name = base_name + (RANDOM_WEIGHTS_SUFFIX if random_weights else "")
    return encoder


def _build_pretrained(fam: Family, identifier: str, random_weights: bool, options: dict) -> Encoder:
    if not random_weights:
        return fam.factory(identifier, random_weights=False, **options)
    import torch

    with torch.random.fork_rng(devices=[]):  # seeded init, the caller's RNG untouched
        torch.manual_seed(RANDOM_WEIGHTS_SEED)
        return fam.factory(identifier, random_weights=True, **options)


_LOADED = False


def _load_families() -> None:
    """Import every module in :mod:`reprlearn.encoders` so their families register."""
    global _LOADED
    if _LOADED:
        return
    import pkgutil

    import reprlearn.encoders as pkg

    for info in pkgutil.iter_modules(pkg.__path__):
        if info.name not in {"base", "registry"}:
            importlib.import_module(f"reprlearn.encoders.{info.name}")
    _LOADED = True


def families() -> list[Family]:
    """All registered families, sorted by name."""
    _load_families()
    return [FAMILIES[k] for k in sorted(FAMILIES)]
