"""Encoders: the contract (:mod:`.base`), the registry (:mod:`.registry`), one module per family."""

from reprlearn.encoders.base import Encoder, TorchEncoder
from reprlearn.encoders.registry import families, load_encoder, register

__all__ = ["Encoder", "TorchEncoder", "families", "load_encoder", "register"]
