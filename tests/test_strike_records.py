"""Strike records from CSV and vector files: read, checked row by row, and run like inline strikes."""

from __future__ import annotations

import gzip

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import Point

from simulator.config.variants import load_scenario
from simulator.engine.prepare import prepare
from simulator.errors import InputError
from simulator.pipeline import simulate
from tests.conftest import TINY_TOML, write_tiny

HEADER = "id,date,profile,carriers,x,y,azimuth_deg,dud_mean,dud_spread"
ROWS = [
    "A1,2024-03-02,artillery-155mm-88,6,500300.0,4700600.0,40,0.1,0.03",
    "R1,2024-06-10,rocket-220mm-30,4,500700.0,4700400.0,300,0.2,0",
    "D1,2024-06-10,dispenser-202,1,500500.0,4700500.0,90,,",
]


def records_scenario(folder, rows=ROWS, header=HEADER, name="strikes.csv", extra=""):
    start = TINY_TOML.index("[[strikes]]")
    text = TINY_TOML[:start] + f'[strike_records]\npath = "{name}"\n{extra}\n' + TINY_TOML[TINY_TOML.index("[simulation]"):]
    path = write_tiny(folder, text)
    body = "\n".join([header, *rows]) + "\n"
    if name.endswith(".gz"):
        (folder / name).write_bytes(gzip.compress(body.encode()))
    else:
        (folder / name).write_text(body)
    return path


def test_records_run_like_the_same_strikes_written_inline(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    text = TINY_TOML.replace("function_altitude_m = 300.0", "")
    inline = simulate(load_scenario(write_tiny(tmp_path / "a", text)), threads=1)
    records = simulate(load_scenario(records_scenario(tmp_path / "b")), threads=1)
    np.testing.assert_array_equal(records.ensemble.sum_count, inline.ensemble.sum_count)
    np.testing.assert_array_equal(records.ensemble.totals, inline.ensemble.totals)


def test_gzip_lonlat_and_inline_strikes_together(tmp_path):
    rows = ["X1,2024-03-02,rocket-220mm-30,4,21.0016,42.4514,10,0.2,0.05"]
    path = records_scenario(tmp_path, rows, HEADER.replace(",x,y,", ",lon,lat,"), "strikes.csv.gz")
    first = TINY_TOML.index("[[strikes]]")
    path.write_text(path.read_text() + "\n" + TINY_TOML[first:TINY_TOML.index("[[strikes]]", first + 1)])
    setup = prepare(load_scenario(path))
    assert list(setup.strikes.id) == ["A1", "X1"]
    assert 400_000 < setup.strikes.x[1] < 600_000 and setup.kernel.ti.shape[0] == 2


def test_point_geometries_in_a_vector_file(tmp_path):
    points = gpd.GeoDataFrame(
        {"date": ["2024-03-02", "2024-06-10"], "profile": ["artillery-155mm-88", "dispenser-147"], "carriers": [6, 2]},
        geometry=[Point(500300, 4700600), Point(500500, 4700500)], crs="EPSG:32634",
    )
    points.to_file(tmp_path / "strikes.gpkg", driver="GPKG")
    path = records_scenario(tmp_path, [], HEADER, "unused.csv")
    path.write_text(path.read_text().replace('path = "unused.csv"', 'path = "strikes.gpkg"'))
    setup = prepare(load_scenario(path))
    assert setup.strikes.x.tolist() == [500300.0, 500500.0] and setup.on_grid.all()
    assert np.isnan(setup.strikes.dud_mean).all()


@pytest.mark.parametrize(
    ("rows", "header", "expected"),
    [
        (["A1,2024-03-02,artillery-155mm-88,6,500300,4700600,40,0.1,0.03", "B,2024-13-40,dispenser-147,1,5,5,0,,"],
         HEADER, ("line 3, column date", "'2024-13-40'", "YYYY-MM-DD")),
        (["A1,2024-03-02,artillery-155mm,6,500300,4700600,40,0.1,0.03"], HEADER,
         ("line 2, column profile", "artillery-155mm-88")),
        (["A1,2024-03-02,dispenser-147,-2,500300,4700600,40,0.1,0.03"], HEADER, ("line 2, column carriers", "greater than or equal to 0")),
        (["A1,2024-03-02,dispenser-147,2.5,500300,4700600,40,0.1,0.03"], HEADER, ("column carriers", "whole number")),
        (["A1,2024-03-02,dispenser-147,2,nan,4700600,40,0.1,0.03"], HEADER, ("line 2, column x", "finite")),
        (["A1,2024-03-02,dispenser-147,2,500300,4700600,40,1.5,0.03"], HEADER, ("column dud_mean", "less than or equal to 1")),
        (["A1,2024-03-02,dispenser-147,2,500300,4700600,40,0.1,0.4"], HEADER, ("column dud_spread", "sqrt")),
        (["A1,2020-03-02,dispenser-147,2,500300,4700600,40,0.1,0.03"], HEADER, ("column date", "time.start")),
        (["A1,2024-03-02,2,500300,4700600"], "id,date,carriers,x,y", ("columns", "'profile'")),
        (["A1,2024-03-02,dispenser-147,2"], "id,date,profile,carriers", ("no coordinate columns",)),
        ([], HEADER, ("has no rows",)),
    ],
)
def test_bad_rows_name_line_and_column(tmp_path, rows, header, expected):
    path = records_scenario(tmp_path, rows, header)
    with pytest.raises(InputError) as info:
        prepare(load_scenario(path))
    line = info.value.line()
    assert "strikes.csv" in line and "\n" not in line
    for fragment in expected:
        assert fragment in line


def test_missing_records_file(tmp_path):
    path = records_scenario(tmp_path)
    (tmp_path / "strikes.csv").unlink()
    with pytest.raises(InputError, match="strike_records.path"):
        prepare(load_scenario(path))


def test_a_scenario_needs_some_strikes(tmp_path):
    start = TINY_TOML.index("[[strikes]]")
    path = write_tiny(tmp_path, TINY_TOML[:start] + TINY_TOML[TINY_TOML.index("[simulation]"):])
    with pytest.raises(InputError, match="no strikes"):
        load_scenario(path)


def test_a_planners_file_aliases_case_dates_and_extra_columns(tmp_path):
    header = "ID,Date,Profile,Carriers,Long,Latitude,Notes,Source"
    rows = ["X1,3/2/2024,rocket-220mm-30,4,21.0016,42.4514,seen by farmer,report 7",
            "X2,6/10/2024,dispenser-147,1,21.0040,42.4530,,"]
    path = records_scenario(tmp_path, rows, header, extra='date_format = "%m/%d/%Y"')
    with pytest.warns(UserWarning, match="ignored columns 'Notes', 'Source'"):
        setup = prepare(load_scenario(path))
    assert list(setup.strikes.id) == ["X1", "X2"]
    assert setup.strikes.date.astype(str).tolist() == ["2024-03-02", "2024-06-10"]
    assert 400_000 < setup.strikes.x[0] < 600_000 and setup.on_grid[1]


def test_easting_and_northing_are_x_and_y(tmp_path):
    path = records_scenario(tmp_path, header=HEADER.replace(",x,y,", ",Easting,Northing,"))
    assert prepare(load_scenario(path)).strikes.x.tolist() == [500300.0, 500700.0, 500500.0]


def test_records_follow_the_rules_of_inline_strikes(tmp_path):
    """The same bad value gives the same problem and fix, whether in [[strikes]] or in a file."""
    inline = write_tiny(tmp_path, TINY_TOML.replace("dud_rate = { mean = 0.1, spread = 0.03 }",
                                                    "dud_rate = { mean = 0.1, spread = 0.4 }"))
    with pytest.raises(InputError) as from_toml:
        load_scenario(inline)
    (tmp_path / "b").mkdir()
    path = records_scenario(tmp_path / "b", [ROWS[0].replace("0.1,0.03", "0.1,0.4")])
    with pytest.raises(InputError) as from_file:
        prepare(load_scenario(path))
    assert from_file.value.fix == from_toml.value.fix and from_file.value.problem == from_toml.value.problem


def test_every_problem_is_listed_with_its_line(tmp_path):
    rows = [ROWS[0].replace("A1", ""), ROWS[1].replace(",4,", ",-4,"), ROWS[2].replace("2024-06-10", "June")]
    with pytest.raises(InputError) as info:
        prepare(load_scenario(records_scenario(tmp_path, rows)))
    assert info.value.field == "line 2, column id" and "(2 more problems below)" in info.value.fix
    assert [line.split(":")[0] for line in info.value.more] == ["line 3, column carriers", "line 4, column date"]
