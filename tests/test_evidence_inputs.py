"""Evidence files: column mappings, CRSs, every bad row told in a line of one error (exit 2, nothing written),
and the run hash covering the files."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from pyproj import Transformer
from shapely.geometry import LineString, box

from simulator.config.variants import load_scenario
from simulator.engine.prepare import prepare
from simulator.errors import InputError
from simulator.inputs.evidence import read_evidence
from simulator.results.provenance import scenario_hash

FINDS = """
[evidence]
[[evidence.finds]]
path = "finds.csv"
columns = { x = "Easting", y = "Northing", date = "found_on", count = "n" }
"""


def with_evidence(tiny, text):
    tiny.write_text(tiny.read_text() + text)
    return load_scenario(tiny, [])


def read(loaded):
    setup = prepare(loaded)
    return read_evidence(loaded.scenario.evidence, grid_crs=setup.grid.crs, profiles=set(loaded.profiles))


def test_mapped_columns_and_lon_lat(tiny):
    (tiny.parent / "finds.csv").write_text("Easting,Northing,found_on,n\n500300,4700600,2024-07-01,2\n"
                                           "500710.5,4700390,2024-07-02,1\n")
    lon, lat = Transformer.from_crs("EPSG:32634", "EPSG:4326", always_xy=True).transform(500500.0, 4700500.0)
    (tiny.parent / "reports.csv").write_text(f"lon,lat,profile\n{lon},{lat},rocket-220mm-30\n")
    loaded = with_evidence(tiny, FINDS + '[[evidence.strike_reports]]\npath = "reports.csv"\n')
    evidence = read(loaded)
    np.testing.assert_allclose(evidence.finds.x, [500300, 500710.5])
    np.testing.assert_array_equal(evidence.finds.count, [2, 1])
    assert evidence.finds.date[1] == np.datetime64("2024-07-02")
    assert evidence.reports.x[0] == pytest.approx(500500.0, abs=1e-3)
    assert evidence.reports.y[0] == pytest.approx(4700500.0, abs=1e-3)
    assert evidence.reports.profile[0] == "rocket-220mm-30"
    assert np.isnat(evidence.reports.date[0])


def test_tracks_are_buffered_by_their_swath(tiny):
    frame = gpd.GeoDataFrame({"date": ["2024-07-01", "2024-07-01"], "found": [0, 2], "swath_m": [None, 4.0]},
                             geometry=[LineString([(500100, 4700100), (500300, 4700100)]),
                                       box(500600, 4700600, 500700, 4700700)], crs="EPSG:32634")
    frame.to_file(tiny.parent / "searched.gpkg", driver="GPKG")
    loaded = with_evidence(tiny, '\n[evidence]\n[[evidence.searched]]\npath = "searched.gpkg"\nswath_m = 3.0\n')
    searched = read(loaded).searched
    assert searched.geometry[0].area == pytest.approx(200 * 3.0)
    np.testing.assert_array_equal(searched.found, [0, 2])
    assert searched.pod[0] == 0.6


def test_every_bad_row_told_at_once(tiny, remnant):
    (tiny.parent / "finds.csv").write_text("Easting,Northing,found_on,n\n500300,4700600,2024-13-01,2\n"
                                           "abc,4700390,2024-07-02,-1\n500300,4700600,2024-07-01,1.5\n")
    with_evidence(tiny, FINDS)
    out = tiny.parent / "out"
    code, stdout, stderr = remnant("run", tiny, "--out", out)
    assert code == 2
    lines = stderr.strip().splitlines()
    assert len(lines) == 4, stderr  # one line per problem, as for strike records
    assert "finds.csv: line 2, column date: '2024-13-01' is not a date" in lines[0]
    assert "(3 more problems below)" in lines[0]
    for line, told in zip(lines[1:], ("line 3, column x", "line 3, column count", "line 4, column count")):
        assert line.strip().startswith(told), line
    assert "Traceback" not in stderr
    assert not out.exists()


def test_bad_geometry_and_unknown_mapping(tiny):
    gpd.GeoDataFrame({"date": ["2024-07-01"]}, geometry=[LineString([(500100, 4700100), (500300, 4700100)])],
                     crs="EPSG:32634").to_file(tiny.parent / "cleared.gpkg", driver="GPKG")
    loaded = with_evidence(tiny, '\n[evidence]\n[[evidence.cleared]]\npath = "cleared.gpkg"\n')
    with pytest.raises(InputError, match="feature 1, column geometry: 'LineString' is a line"):
        read(loaded)
    with pytest.raises(InputError, match="is not a column this evidence has"):
        load_scenario(tiny, ["evidence.cleared[0].columns.wrong=x"])


def test_the_run_hash_covers_evidence_files(tiny):
    finds = tiny.parent / "finds.csv"
    finds.write_text("Easting,Northing,found_on,n\n500300,4700600,2024-07-01,2\n")
    loaded = with_evidence(tiny, FINDS)
    before = scenario_hash(prepare(loaded))
    finds.write_text("Easting,Northing,found_on,n\n500300,4700600,2024-07-01,3\n")
    assert scenario_hash(prepare(loaded)) != before


@pytest.mark.parametrize("setting,value", [("particles", "50"), ("moves", "-1"), ("ess_fraction", "1.0"),
                                           ("max_stages", "0"), ("target_ess", "0")])
def test_bad_resample_move_settings_fail_in_one_line(tiny, remnant, setting, value):
    (tiny.parent / "finds.csv").write_text("Easting,Northing,found_on,n\n500300,4700600,2024-07-01,1\n")
    tiny.write_text(tiny.read_text() + FINDS.replace("[evidence]\n", f"[evidence]\n{setting} = {value}\n"))
    out = tiny.parent / "out"
    code, _, stderr = remnant("run", tiny, "--out", out)
    assert code == 2, stderr
    line = stderr.strip()
    assert len(line.splitlines()) == 1 and "Traceback" not in stderr, stderr
    assert str(tiny) in line and f"evidence.{setting}" in line and value in line, line
    assert not out.exists()
