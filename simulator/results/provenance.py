"""What identifies a run: the scenario's hash and the versions that shape its results."""

from __future__ import annotations

import hashlib
import platform
from importlib import metadata

from simulator.inputs.prepare import Setup


def scenario_hash(setup: Setup) -> str:
    """SHA-256 of the validated scenario (after overrides) and the bytes of its land-use file."""
    sc = setup.scenario
    digest = hashlib.sha256(sc.model_dump_json().encode())
    with open(sc.land_use.path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def versions() -> dict[str, str]:
    """Versions of Python, remnant and the libraries that shape results."""
    names = ("remnant", "numpy", "numba", "rasterio", "geopandas", "shapely", "pyproj", "pyogrio", "pydantic")
    found = {"python": platform.python_version()}
    for name in names:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found
