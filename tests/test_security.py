"""Nobody gets in: hostile strings in users' files come out escaped, Dask addresses beyond loopback need TLS,
and checkpoints and run folders are read as data only."""

from __future__ import annotations

import csv
import json
import os
import sqlite3
import xml.etree.ElementTree as ET
from dataclasses import fields

import distributed
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from simulator.config.variants import load_scenario
from simulator.engine.ensemble import Ensemble
from simulator.engine.prepare import prepare
from simulator.errors import InputError
from simulator.outputs import safe
from simulator.outputs.styles import store_in_geopackage
from simulator.pipeline.checkpoint import Checkpoint
from simulator.pipeline.dask_backend import DaskBackend
from simulator.results.provenance import scenario_hash
from tests.conftest import TINY_TOML, write_tiny

MARKUP = "<script>alert(\"x\")</script> & 'y'"
FORMULA = "=cmd|' /C calc'!A0"
SPREADSHEET_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")  # OWASP's list, written out here independently
CLASS_KEY = FORMULA + MARKUP
CLASS_NAMES = {"residential": "@SUM(1+1)" + MARKUP, "farmland": "-2+3+" + FORMULA, CLASS_KEY: "+" + MARKUP}
ATTRIBUTE = FORMULA + " " + MARKUP  # a land-use value mapped to the hostile class
UNMAPPED = "=1+1 " + MARKUP  # a land-use value no class lists: reported in run.json
STRIKE_ID = FORMULA + MARKUP


def toml(text: str) -> str:
    """``text`` as a TOML basic string (JSON's escapes are TOML's)."""
    return json.dumps(text)


@pytest.fixture
def hostile(tmp_path):
    """The tiny scenario with hostile strings in its description, classes, land-use values and a strike id."""
    text = (TINY_TOML
            .replace('description = "A 1 x 1 km', f"description = {toml(FORMULA + MARKUP)[:-1]} A 1 x 1 km")
            .replace('name = "Residential"', f"name = {toml(CLASS_NAMES['residential'])}")
            .replace('name = "Farmland"', f"name = {toml(CLASS_NAMES['farmland'])}")
            .replace("[land_use.classes.forest]", f"[land_use.classes.{toml(CLASS_KEY)}]")
            .replace('name = "Forest"', f"name = {toml(CLASS_NAMES[CLASS_KEY])}")
            .replace('values = ["forest", "wood"]', f"values = [{toml(ATTRIBUTE)}]")
            .replace('id = "A1"', f"id = {toml(STRIKE_ID)}"))
    path = write_tiny(tmp_path, text)
    layer = gpd.GeoDataFrame(
        {"class": ["farmland", ATTRIBUTE, "residential", UNMAPPED]},
        geometry=[box(500000, 4700000, 500500, 4701000), box(500500, 4700000, 501000, 4701000),
                  box(500200, 4700500, 500400, 4700700), box(500000, 4700000, 500100, 4700100)],
        crs="EPSG:32634",
    )
    layer.to_file(tmp_path / "land_use.geojson", driver="GeoJSON")
    return path


def is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def test_hostile_strings_come_out_escaped_and_intact(hostile, tmp_path, remnant):
    out = tmp_path / "out"
    code, _, err = remnant("run", hostile, "--out", out, "--realizations", "8", "--quiet")
    assert code == 0, err

    # XML: every style parses, and the class names are the labels, character for character
    for path in out.glob("*.qml"):
        ET.parse(path)
    labels = [e.get("label") for e in ET.parse(out / "landuse.qml").iter("paletteEntry")]
    assert sorted(labels) == sorted(CLASS_NAMES.values())

    # CSV: no text cell can start a formula; the hostile values are there behind an apostrophe; numbers stay numbers
    for path in out.glob("*.csv"):
        with path.open(newline="", encoding="utf-8") as f:
            for row in csv.reader(f):
                for cell in row:
                    assert is_number(cell) or not cell.startswith(SPREADSHEET_TRIGGERS), (path.name, cell)
    by_class = pd.read_csv(out / "hazardous_area_by_class.csv")
    assert set(by_class["class"]) == {"residential", "farmland", "'" + CLASS_KEY}
    assert set(by_class["name"]) == {"'" + name for name in CLASS_NAMES.values()}
    assert all(pd.api.types.is_numeric_dtype(by_class[c]) for c in by_class.columns if c not in ("class", "name"))
    over_time = pd.read_csv(out / "hazardous_area.csv")
    assert "'" + CLASS_KEY in set(over_time["class"])
    assert pd.api.types.is_numeric_dtype(over_time["remnants_mean"])

    # JSON: run.json parses, with the strings intact
    record = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert any(UNMAPPED in line for line in record["land_use"])
    assert {row["name"] for row in record["summary"]["by_class"]} == set(CLASS_NAMES.values())

    # GeoPackage: the style row holds the .qml exactly; the strike ids are intact
    with sqlite3.connect(out / "hazard_areas.gpkg") as db:
        rows = db.execute("SELECT f_table_name, styleName, styleQML, useAsDefault FROM layer_styles").fetchall()
    assert rows[0] == ("hazard_areas", "hazard_areas", (out / "hazard_areas.qml").read_text(), 1)
    for *_, qml, _ in rows:
        ET.fromstring(qml)
    strikes = gpd.read_file(out / "hazard_areas.gpkg", layer="strikes")
    assert STRIKE_ID in set(strikes["id"])


def test_a_scenario_name_with_markup_is_refused_in_one_line(tmp_path, remnant):
    path = write_tiny(tmp_path, TINY_TOML.replace('name = "tiny"', f"name = {toml('tiny' + MARKUP)}"))
    code, _, err = remnant("run", path, "--out", tmp_path / "o", "--quiet")
    assert code == 2 and err.count("\n") == 1 and "name" in err
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("start", SPREADSHEET_TRIGGERS)
def test_text_cells_that_would_run_as_formulas_get_an_apostrophe(start):
    assert safe.csv_cell(start + "SUM(A1:A9)") == "'" + start + "SUM(A1:A9)"


def test_other_cells_and_numbers_are_left_as_they_are(tmp_path):
    for value in ("Farmland", "2024-01-01", " =1", "", -1.5, 3, None):
        assert safe.csv_cell(value) == value
    table = pd.DataFrame({"x": [-1.5, 2.0], "n": [-3, 4], "label": ["-1", "ok"], "=name": ["a", "b"]})
    safe.write_csv(table, tmp_path / "t.csv")
    assert (tmp_path / "t.csv").read_text().splitlines() == ["x,n,label,'=name", "-1.5,-3,'-1,a", "2,4,ok,b"]
    assert table["label"].tolist() == ["-1", "ok"]  # the caller's table is not changed


def test_xml_attributes_round_trip_any_text():
    for text in (MARKUP, FORMULA, "line\nbreak\ttab", "\"'&<>", "Ωμέγα ⚠"):
        assert ET.fromstring(f"<a v={safe.xml_attr(text)}/>").get("v") == text
    bell = safe.xml_attr("bell\x07")
    assert ET.fromstring(f"<a v={bell}/>").get("v") == "bell\ufffd"  # XML 1.0 cannot hold it, even escaped


def test_geopackage_style_values_go_in_as_parameters(tmp_path):
    gpkg = tmp_path / "g.gpkg"
    gpd.GeoDataFrame({"v": [1]}, geometry=[box(0, 0, 1, 1)], crs="EPSG:32634").to_file(gpkg, driver="GPKG")
    layer = "x', '', 1, '', '', ''); DROP TABLE gpkg_contents; --"
    store_in_geopackage(gpkg, layer, "<qgis a=\"'\"/>", MARKUP)
    with sqlite3.connect(gpkg) as db:
        assert db.execute("SELECT f_table_name, styleName, styleQML, description FROM layer_styles").fetchall() == [
            (layer, layer, "<qgis a=\"'\"/>", MARKUP)]
        assert db.execute("SELECT count(*) FROM gpkg_contents").fetchone()[0] >= 1


# --- Dask addresses: checked before any connection ------------------------------------------------------------

BEYOND_LOOPBACK = ["tcp://192.0.2.10:8786", "192.0.2.10:8786", "tcp://0.0.0.0:8786", "tcp://scheduler.example.org:8786",
                   "tcp://[2001:db8::1]:8786", "ws://127.0.0.1:8786"]
LOOPBACK = ["tcp://127.0.0.1:8786", "localhost:8786", "tcp://[::1]:8786", "127.0.0.5:8786", "TCP://LOCALHOST:1"]


@pytest.fixture
def no_connections(monkeypatch):
    """Fail the test if anything tries to connect to a Dask scheduler."""
    attempts = []
    monkeypatch.setattr(distributed, "Client", lambda *a, **k: attempts.append(a) or pytest.fail("connected"))
    return attempts


@pytest.mark.parametrize("address", BEYOND_LOOPBACK)
def test_plain_addresses_beyond_loopback_are_refused_unless_insecure(address, no_connections):
    with pytest.raises(InputError, match="--insecure") as refused:
        DaskBackend(scheduler=address)
    assert "\n" not in refused.value.line()
    assert DaskBackend(scheduler=address, insecure=True)._security is None
    assert no_connections == []


@pytest.mark.parametrize("address", LOOPBACK)
def test_plain_loopback_addresses_are_allowed(address, no_connections):
    assert DaskBackend(scheduler=address)._security is None
    assert no_connections == []


@pytest.mark.parametrize("options, field", [
    (["--scheduler", "tcp://192.0.2.10:8786"], "--scheduler"),
    (["--scheduler", "tls://192.0.2.10:8786"], "--tls-ca-file"),
    (["--scheduler", "tls://192.0.2.10:8786", "--tls-ca-file", "nowhere.pem", "--tls-cert", "c.pem"], "--tls-ca-file"),
    (["--scheduler", "tls://192.0.2.10:8786", "--tls-ca-file", "{scenario}", "--tls-cert", "{scenario}"],
     "--tls-ca-file"),
    (["--scheduler", "tcp://127.0.0.1:8786", "--tls-ca-file", "{scenario}"], "--scheduler"),
    (["--workers", "2", "--tls-cert", "{scenario}"], "--tls-cert"),
    (["--dashboard"], "--dashboard"),
])
def test_bad_cluster_options_are_one_line_before_any_connection(options, field, tiny, tmp_path, remnant,
                                                                  no_connections):
    options = [option.format(scenario=tiny) for option in options]
    code, out, err = remnant("run", tiny, "--out", tmp_path / "o", "--quiet", *options)
    assert code == 2 and out == "" and err.count("\n") == 1, err
    assert f"error: {field}" in err
    assert not (tmp_path / "o").exists() and no_connections == []


# --- checkpoints and run folders: data only ----------------------------------------------------------------------

class Payload:
    """Makes a folder when unpickled: proof that a checkpoint was unpickled."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return os.mkdir, (self.marker,)


def plant_checkpoint(scenario_path, target, value) -> None:
    """A checkpoint for ``target`` that matches the scenario, whose ensemble arrays are ``value``."""
    setup = prepare(load_scenario(scenario_path))
    sim = setup.scenario.simulation
    checkpoint = Checkpoint(target, {"scenario_sha256": scenario_hash(setup), "seed": sim.seed,
                                     "realizations": sim.realizations})
    checkpoint.start()
    arrays = {f.name: np.array([value, value], dtype=object) for f in fields(Ensemble)}
    np.savez(checkpoint.folder / "ensemble.npz", allow_pickle=True, **arrays)


def test_a_checkpoint_is_never_unpickled(tiny, tmp_path, remnant):
    marker = tmp_path / "unpickled"
    plant_checkpoint(tiny, tmp_path / "out", Payload(marker))
    try:
        remnant("run", tiny, "--out", tmp_path / "out", "--resume", "--quiet")
    except ValueError:  # refused, one way or another (see the next test): what matters is that nothing ran
        pass
    assert not marker.exists()


def test_a_checkpoint_holding_objects_is_refused_in_one_line(tiny, tmp_path, remnant):
    plant_checkpoint(tiny, tmp_path / "out", {"not": "numbers"})
    code, out, err = remnant("run", tiny, "--out", tmp_path / "out", "--resume", "--quiet")
    assert code == 2 and out == "" and err.count("\n") == 1 and "checkpoint" in err, err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("record", ["{not json", "[1, 2]", '{"scenario": 7}', '{"scenario": "x.toml"}', "\udcff"])
def test_a_malformed_run_folder_is_refused_in_one_line(record, tmp_path, remnant):
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "run.json").write_bytes(record.encode("utf-8", "surrogateescape"))
    code, out, err = remnant("run", "--check", folder)
    assert code == 2 and out == "" and err.count("\n") == 1 and "run.json" in err, err
