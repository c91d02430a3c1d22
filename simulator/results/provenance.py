"""What identifies a run: the hash of every input, and the versions that shape its results."""

from __future__ import annotations

import hashlib
import platform
from importlib import metadata
from pathlib import Path

from simulator.engine.prepare import Setup


def input_files(setup: Setup) -> list[Path]:
    """Every file the run reads besides the scenario: land use, strike records, catalog, population, evidence."""
    sc = setup.scenario
    files = [Path(sc.land_use.path)]
    if sc.strike_records is not None:
        files.append(Path(sc.strike_records.path))
    if sc.catalog is not None:
        files.append(Path(sc.catalog))
    if sc.risk is not None and sc.risk.population is not None:
        files.append(Path(sc.risk.population.path))
    if sc.evidence is not None:
        files.extend(Path(p) for p in sc.evidence.files())
    return files


def scenario_hash(setup: Setup) -> str:
    """SHA-256 of the validated scenario (after overrides) and the bytes of every input file
    (``input_files``, with a shapefile's sidecars; a folder dataset by each of its files)."""
    digest = hashlib.sha256(setup.scenario.model_dump_json().encode())
    for path in input_files(setup):
        for member in _members(path):
            digest.update(member.name.encode())
            with open(member, "rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    digest.update(block)
    return digest.hexdigest()


def _members(path: Path) -> list[Path]:
    """The files a dataset at ``path`` is made of."""
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.is_file())
    if path.suffix.lower() == ".shp":
        return sorted(p for p in path.parent.glob(f"{path.stem}.*") if p.is_file())
    return [path]


def versions() -> dict[str, str]:
    """Versions of Python, remnant and the libraries that shape results."""
    names = ("remnant", "numpy", "numba", "scipy", "rasterio", "geopandas", "shapely", "pyproj", "pyogrio", "pydantic")
    found = {"python": platform.python_version()}
    for name in names:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found
