"""QGIS opens a run as a GIS officer would: the project, every layer valid and styled, with no
``.qml`` sidecar beside the files, and a headless render of the project.

QGIS runs in its own Python (Debian's ``python3-qgis`` under ``/usr/bin/python3``, installed by
``.ci/run``; another with ``REMNANT_QGIS_PYTHON``), driven by ``tests/qgis_check.py`` in a
subprocess (the tests that start it are marked slow; CI runs them). Without it these tests fail, saying
how to install it: they never skip.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pytest

from simulator.config.variants import load_scenario
from simulator.outputs.qgis_project import PROJECT_FILE
from simulator.outputs.styles import CHA_COLOUR, SHA_COLOUR
from simulator.outputs.writer import write_outputs
from simulator.pipeline import simulate
from tests.conftest import write_tiny

QGIS_PYTHON = os.environ.get("REMNANT_QGIS_PYTHON", "/usr/bin/python3")
CHECK = Path(__file__).with_name("qgis_check.py")
PROJECT_ORDER = ["strike aim points", "CHA", "SHA", "P(contaminated)", "expected remnants per ha", "land use"]
CLASSES = [("Residential", "#e5b7bf"), ("Farmland", "#e9d66b"), ("Forest", "#86b386")]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("qgis")
    result = simulate(load_scenario(write_tiny(folder), ["hazard.min_area_m2=0"]), threads=1)
    return write_outputs(result, folder / "out")


@pytest.fixture(scope="module")
def qgis(run_dir, tmp_path_factory):
    """What QGIS reports on a copy of the run, moved elsewhere and without any .qml file."""
    copy = tmp_path_factory.mktemp("moved") / "run"
    shutil.copytree(run_dir, copy, ignore=shutil.ignore_patterns("*.qml"))
    assert not list(copy.glob("*.qml"))
    png = copy.parent / "project.png"
    env = os.environ | {"QT_QPA_PLATFORM": "offscreen", "XDG_RUNTIME_DIR": str(copy.parent)}
    try:
        done = subprocess.run([QGIS_PYTHON, str(CHECK), str(copy), str(png)], capture_output=True, text=True,
                              env=env, timeout=300, cwd=copy.parent)
    except FileNotFoundError:
        pytest.fail(f"{QGIS_PYTHON} not found: install QGIS's Python bindings (apt-get install python3-qgis "
                    "qgis-providers, as .ci/run does) or set REMNANT_QGIS_PYTHON")
    if done.returncode != 0:
        pytest.fail(f"PyQGIS failed (install python3-qgis and qgis-providers, as .ci/run does):\n{done.stderr[-2000:]}")
    return json.loads(done.stdout), copy, png


@pytest.mark.slow  # QGIS in its own process: CI runs it with -m slow
def test_the_project_opens_every_layer_valid_in_order_from_relative_paths(qgis):
    report, copy, _ = qgis
    assert report["project_read"]
    layers = report["project_layers"]
    assert [layer["name"] for layer in layers] == PROJECT_ORDER
    assert all(layer["valid"] and layer["crs"] == "EPSG:32634" for layer in layers)
    assert all(Path(layer["source"].split("|")[0]).parent == copy for layer in layers)  # found where it was moved
    assert [layer["visible"] for layer in layers] == [True, True, True, False, True, True]


@pytest.mark.slow  # QGIS in its own process: CI runs it with -m slow
def test_every_project_layer_is_styled_without_sidecars(qgis):
    layers = {layer["name"]: layer for layer in qgis[0]["project_layers"]}
    assert layers["CHA"]["fill"] == "#80" + CHA_COLOUR[1:] and layers["CHA"]["symbol_layer"] == "SimpleFill"
    assert layers["SHA"]["fill"] == "#80" + SHA_COLOUR[1:]
    assert layers["strike aim points"]["symbol_layer"] == "SimpleMarker" and layers["strike aim points"]["labels"]
    assert layers["strike aim points"]["features"] == 3
    for name in ("P(contaminated)", "expected remnants per ha"):
        ramp = layers[name]["ramp"]
        assert layers[name]["renderer"] == "singlebandpseudocolor"
        assert ramp[0]["value"] == 0 and ramp[0]["alpha"] == 0 and all(item["alpha"] > 0 for item in ramp[1:])
    assert [item["label"][:3] for item in layers["P(contaminated)"]["ramp"][2:]] == ["SHA", "CHA"]
    palette = layers["land use"]
    assert palette["renderer"] == "paletted"
    assert [(c["label"], c["colour"]) for c in palette["classes"]] == CLASSES


@pytest.mark.slow  # QGIS in its own process: CI runs it with -m slow
def test_files_opened_alone_find_their_styles(qgis):
    alone = qgis[0]["alone"]
    landuse = alone["landuse.tif"]
    assert landuse["renderer"] == "paletted"  # from the .aux.xml palette, not a 256-entry colour table
    assert [(c["value"], c["label"]) for c in landuse["classes"]] == [(0, "no data"), *(
        (i + 1, name) for i, (name, _) in enumerate(CLASSES))]
    assert [c["colour"] for c in landuse["classes"][1:]] == [colour for _, colour in CLASSES]
    for layer, fill in (("hazard_areas", CHA_COLOUR), ("suspected_areas", SHA_COLOUR), ("strikes", "#ffffff")):
        assert alone[layer]["valid"] and alone[layer]["default_style_found"], alone[layer]
        assert alone[layer]["fill"][3:] == fill[1:]


@pytest.mark.slow  # QGIS in its own process: CI runs it with -m slow
def test_the_project_renders_headless_to_an_image_of_the_expected_size(qgis):
    report, _, png = qgis
    assert report["render_saved"] and not report["render_errors"]
    image = mpimg.imread(png)
    assert image.shape[:2] == (600, 800) and report["render_size"] == [800, 600]
    rgb = image[..., :3]
    red = (rgb[..., 0] > 0.8) & (rgb[..., 1] < 0.35) & (rgb[..., 2] < 0.35)
    assert red.mean() > 0.01  # the CHA fill is drawn
    assert len(np.unique(rgb.reshape(-1, 3), axis=0)) > 10


def test_style_rows_name_each_layers_real_geometry_column(run_dir):
    with sqlite3.connect(run_dir / "hazard_areas.gpkg") as db:
        columns = dict(db.execute("SELECT table_name, column_name FROM gpkg_geometry_columns"))
        rows = db.execute("SELECT f_table_name, f_geometry_column, useAsDefault FROM layer_styles").fetchall()
    assert sorted(name for name, _, _ in rows) == sorted(columns) == ["hazard_areas", "strikes", "suspected_areas"]
    assert all(geometry == columns[name] and default for name, geometry, default in rows)
    assert set(columns.values()) == {"geom"}


def test_the_project_file_is_a_zipped_qgs_with_relative_sources(run_dir):
    with zipfile.ZipFile(run_dir / PROJECT_FILE) as archive:
        assert archive.namelist() == ["remnant.qgs"]
        root = ET.fromstring(archive.read("remnant.qgs"))
    assert root.find("properties/Paths/Absolute").text == "false"
    sources = [e.text for e in root.iter("datasource")]
    assert len(sources) == len(PROJECT_ORDER) and all(s.startswith("./") for s in sources)
