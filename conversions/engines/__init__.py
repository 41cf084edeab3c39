"""Conversion engines (pure Python; no Django imports)."""

from .base import (
    ConvertOptions,
    Engine,
    EngineError,
    EngineTimeout,
    OutputTooLarge,
    UnsafeInput,
)
from .registry import Registry, default_registry, engine_for, supported_pairs

__all__ = [
    "ConvertOptions",
    "Engine",
    "EngineError",
    "EngineTimeout",
    "OutputTooLarge",
    "Registry",
    "UnsafeInput",
    "default_registry",
    "engine_for",
    "supported_pairs",
]
