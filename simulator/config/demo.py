"""The embedded demo scenario, the default of every command that takes a scenario."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def demo_scenario() -> Path:
    """The demo district: packaged as ``simulator/demo`` in a wheel, ``scenarios/`` in a checkout."""
    packaged = Path(str(resources.files("simulator"))) / "demo" / "demo-district.toml"
    if packaged.is_file():
        return packaged
    return Path(__file__).resolve().parents[2] / "scenarios" / "demo-district.toml"
