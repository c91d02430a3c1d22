"""docs/images/ is what docs/images/make_images.py draws today: the recorded inputs and PNGs match
(fast), and a fresh render of the demo map matches the committed one pixel for pixel (slow)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "docs" / "images" / "make_images.py"
REGENERATE = "docs/images/ is stale: run `python docs/images/make_images.py` and commit the result"

PIXEL_TOLERANCE = 0.1
"""A pixel differs when a channel differs by more than this (0-1 scale): anti-aliasing and font
hinting across library versions stay below it."""

CHANGED_SHARE = 0.002
"""An image is stale when more than this share of its pixels differ."""


def load_script():
    spec = importlib.util.spec_from_file_location("make_images", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def changed_share(a: Path, b: Path) -> float:
    """The share of pixels that differ between two PNGs (1.0 when their sizes differ)."""
    x, y = mpimg.imread(a), mpimg.imread(b)
    if x.shape != y.shape:
        return 1.0
    return float((np.abs(x - y).max(axis=-1) > PIXEL_TOLERANCE).mean())


def test_the_images_were_drawn_from_todays_inputs():
    script = load_script()
    manifest = json.loads(script.MANIFEST.read_text())
    assert set(manifest) == {"demo-map.png"}
    for name, record in manifest.items():
        assert record["inputs_sha256"] == script.inputs_digest(), REGENERATE
        assert record["png_sha256"] == script.sha256(script.FOLDER / name), REGENERATE


def test_the_inputs_digest_sees_a_change_in_the_plotting_code(tmp_path, monkeypatch):
    script = load_script()
    before = script.inputs_digest()
    copy = tmp_path / "repo"
    for name in script.INPUTS:
        (copy / name).parent.mkdir(parents=True, exist_ok=True)
        (copy / name).write_bytes((ROOT / name).read_bytes())
    monkeypatch.setattr(script, "ROOT", copy)
    assert script.inputs_digest() == before
    plots = copy / "simulator" / "outputs" / "plots.py"
    plots.write_text(plots.read_text().replace("MAP_MIN_PIXELS = 560", "MAP_MIN_PIXELS = 561"))
    assert script.inputs_digest() != before


@pytest.mark.slow
def test_a_fresh_render_matches_the_committed_images(tmp_path):
    script = load_script()
    result = script.demo_result()
    fresh = script.render(tmp_path, result)
    for name, path in fresh.items():
        assert changed_share(path, script.FOLDER / name) <= CHANGED_SHARE, REGENERATE
    # the comparison is not blind: the same map without its SHA outlines counts as stale
    stale = tmp_path / "stale.png"
    script.plots.save(script.demo_map(result, suspected=None), stale)
    assert changed_share(stale, script.FOLDER / "demo-map.png") > CHANGED_SHARE
