"""Regenerate the figures in docs/images/ that remnant draws: ``python docs/images/make_images.py``.

``demo-map.png`` (the README's map) is the map of ``remnant run`` on the demo district, as it
ships (its seed and precision targets). ``images.json`` records, per image, the SHA-256 of the
PNG and of the inputs that drew it (the plotting code, this script, the demo scenario and its
land-use layer); ``tests/test_docs_images.py`` checks both, and in the slow suite renders the
map afresh and compares it pixel by pixel. ``convergence.png`` is a benchmark's figure:
``python -m benchmarks.convergence`` makes it.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

from simulator.config.demo import demo_scenario
from simulator.config.variants import load_scenario
from simulator.outputs import plots
from simulator.pipeline import simulate

ROOT = Path(__file__).resolve().parents[2]
FOLDER = Path(__file__).resolve().parent
MANIFEST = FOLDER / "images.json"

INPUTS = (
    "simulator/outputs/plots.py",
    "simulator/outputs/styles.py",
    "docs/images/make_images.py",
    "scenarios/demo-district.toml",
    "scenarios/data/demo-district.gpkg",
)
"""Files whose content draws the images, relative to the repository root."""


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def inputs_digest() -> str:
    """One SHA-256 over the names and contents of ``INPUTS``."""
    digest = hashlib.sha256()
    for name in INPUTS:
        digest.update(name.encode() + b"\0" + (ROOT / name).read_bytes() + b"\0")
    return digest.hexdigest()


def demo_result():
    """The demo district's run, as ``remnant run`` makes it."""
    return simulate(load_scenario(demo_scenario(), []))


def demo_map(result, **changes):
    """The map figure of ``result`` exactly as the run writes ``map.png`` (``changes``: keyword
    arguments of ``district_map`` to override, to show what a stale image looks like)."""
    hazard = result.setup.scenario.hazard
    p = result.p_contaminated
    arguments = {"hazardous": p >= hazard.threshold, "suspected": p >= hazard.suspect_threshold,
                 "title": f"{result.setup.scenario.name}: expected cluster munition remnants "
                          f"({result.ensemble.realizations} realizations)"} | changes
    return plots.district_map(result.setup, result.density_per_ha, **arguments)


def render(folder: Path, result=None) -> dict[str, Path]:
    """Draw every image into ``folder``; return {name: path}."""
    result = result if result is not None else demo_result()
    path = folder / "demo-map.png"
    plots.save(demo_map(result), path)
    return {"demo-map.png": path}


def main() -> int:
    images = render(FOLDER)
    record = {name: {"png_sha256": sha256(path), "inputs_sha256": inputs_digest()} for name, path in images.items()}
    MANIFEST.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
    for name in images:
        print(f"wrote docs/images/{name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
