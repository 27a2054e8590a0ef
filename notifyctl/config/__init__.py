"""Configuration: named environments in YAML, validated into frozen dataclasses."""

from notifyctl.config.loader import load
from notifyctl.config.schema import Environment

__all__ = ["Environment", "load"]
