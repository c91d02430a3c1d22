"""The tutorial's "Your own data" section, run as written: inspect, init, validate and run on the
project's OpenStreetMap extract and the section's strike list, each shown output checked."""

from __future__ import annotations

import re
import shlex
import shutil
import tomllib
from pathlib import Path

import pandas as pd
import pytest

from simulator.config.variants import load_scenario

pytestmark = pytest.mark.slow  # whole processes run the tutorial's commands: CI runs them with -m slow

ROOT = Path(__file__).resolve().parents[1]
EXTRACT = "tests/data/osm-rural-finland.osm.pbf"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.M | re.S)


def section() -> str:
    text = (ROOT / "docs" / "tutorial.md").read_text(encoding="utf-8")
    start = text.index("\n## Your own data")
    end = text.find("\n## ", start + 1)
    return text[start:end if end > 0 else None]


def blocks() -> list[tuple[str, str]]:
    """The section's fenced blocks, (language, text), in order."""
    return [(m.group(1), m.group(2)) for m in FENCE.finditer(section())]


def normal(line: str) -> str:
    return " ".join(line.split())


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """A folder laid out like a checkout: the extract at its path, the section's strike list beside it."""
    (tmp_path / EXTRACT).parent.mkdir(parents=True)
    shutil.copyfile(ROOT / EXTRACT, tmp_path / EXTRACT)
    csv = [text for language, text in blocks() if language == "csv"]
    assert len(csv) == 1
    (tmp_path / "strikes.csv").write_text(csv[0], encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_the_sections_commands_print_what_it_shows(remnant, workdir):
    ran, pending = [], None
    for language, text in blocks():
        if language == "bash":
            commands = [line.split("  #")[0] for line in text.splitlines() if line.startswith("remnant ")]
            assert len(commands) == 1, text
            code, stdout, stderr = remnant(*shlex.split(commands[0])[1:])
            assert code == 0, f"{commands[0]}: {stderr}"
            ran.append(commands[0])
            pending = {normal(line) for line in (stdout + stderr).splitlines()}
        elif language == "text":
            assert pending is not None, "an output block must follow a command"
            for line in text.splitlines():
                if line.strip() != "...":
                    assert normal(line) in pending, f"{ran[-1]} did not print: {line}"
    assert [c.split()[1] for c in ran] == ["inspect", "init", "validate", "validate", "run"]
    folder = workdir / "outputs" / "my-district"
    for name in re.findall(r"`([\w.]+\.(?:png|tif|gpkg|csv|json))`", section()):
        if "/" not in name and name != "strikes.csv" and not name.startswith("strikes"):
            assert (folder / name).is_file(), name


def test_init_writes_escaped_toml_that_loads_and_maps_every_value(remnant, workdir):
    code, _, stderr = remnant("init", "mine", "--land-use", EXTRACT, "--strikes", "strikes.csv")
    assert code == 0, stderr
    raw = tomllib.loads((workdir / "mine" / "scenario.toml").read_text(encoding="utf-8"))
    classes = raw["land_use"]["classes"]
    values = sorted(v for c in classes.values() for v in c["values"])
    assert values == sorted(["residential", "farmland", "industrial", "wood", "scrub", "meadow", "cemetery", "retail",
                             "farmyard", "grass", "forest", "greenhouse_horticulture"])
    assert raw["study_area"]["crs"] == "EPSG:32635" and raw["land_use"]["default_class"] == "unclassified"
    records = pd.read_csv(workdir / "mine" / raw["strike_records"]["path"])
    assert list(records.columns) == ["id", "date", "profile", "carriers", "lon", "lat", "azimuth_deg"]
    assert records["id"].tolist() == ["K1", "K2", "K3", "K4"]
    loaded = load_scenario(workdir / "mine" / "scenario.toml")
    assert loaded.scenario.clearance.teams.nts == 1


def test_values_with_quotes_and_newlines_are_written_safely(remnant, workdir):
    import geopandas
    from shapely.geometry import box

    tricky = ['say "forest"', "back\\slash", "two\nlines", "[markup]", "résidentiel"]
    frame = geopandas.GeoDataFrame({"CLASS": tricky}, geometry=[box(i * 100, 0, i * 100 + 90, 90) for i in range(5)],
                                   crs="EPSG:32634").to_crs("EPSG:4326")
    frame.geometry = frame.geometry.translate(21.0, 42.0)  # somewhere in UTM zone 34N
    frame.to_file(workdir / "tricky.gpkg")
    code, _, stderr = remnant("init", "tricky", "--land-use", "tricky.gpkg", "--class-field", "CLASS")
    assert code == 0, stderr
    raw = tomllib.loads((workdir / "tricky" / "scenario.toml").read_text(encoding="utf-8"))
    assert sorted(v for c in raw["land_use"]["classes"].values() for v in c["values"]) == sorted(tricky)
    code, stdout, stderr = remnant("validate", workdir / "tricky" / "scenario.toml")
    assert code == 0 and "unmapped" not in stdout, stderr
    code, stdout, _ = remnant("inspect", "tricky.gpkg", "--field", "CLASS")
    assert code == 0 and "'two\\nlines'" in stdout and "'[markup]'" in stdout


def test_init_without_strikes_writes_a_template_that_runs(remnant, workdir):
    code, _, stderr = remnant("init", "plain", "--land-use", EXTRACT)
    assert code == 0, stderr
    template = pd.read_csv(workdir / "plain" / "data" / "strikes-template.csv")
    assert len(template) == 3 and template["carriers"].min() >= 1
    code, _, stderr = remnant("run", "plain/scenario.toml", "--realizations", "4", "--out", "o", "--quiet")
    assert code == 0, stderr


def test_init_refuses_a_strike_file_without_coordinates_and_writes_nothing(remnant, workdir):
    (workdir / "bad.csv").write_text("date,profile,carriers\n2024-05-04,artillery-155mm-88,3\n", encoding="utf-8")
    code, _, stderr = remnant("init", "bad", "--land-use", EXTRACT, "--strikes", "bad.csv")
    assert code == 2 and "x and y (or lon and lat)" in stderr and len(stderr.strip().splitlines()) == 1
    assert not (workdir / "bad").exists()
    (workdir / "unknown.csv").write_text("date,profile,carriers,lon,lat\n2024-05-04,howitzer,3,26.95,60.53\n",
                                         encoding="utf-8")
    code, _, stderr = remnant("init", "unknown", "--land-use", EXTRACT, "--strikes", "unknown.csv")
    assert code == 2 and "'howitzer' is not a known profile" in stderr
    assert not (workdir / "unknown" / "scenario.toml").exists() and not (workdir / "unknown" / "data").exists()


def test_inspect_json_describes_every_layer(remnant, workdir):
    import json

    code, stdout, _ = remnant("inspect", EXTRACT, "--json")
    document = json.loads(stdout)
    assert [layer["name"] for layer in document["layers"]] == [
        "points", "lines", "multilinestrings", "multipolygons", "other_relations"]
    polygons = document["layers"][3]
    assert polygons["features"] == 2302 and polygons["fits"] is True and polygons["coordinates"] == "degrees"
    assert {"name": "landuse", "type": "String"} in polygons["fields"]


@pytest.mark.parametrize("name", ["layer.gpkg", "layer.geojson", "layer.shp", "layer.fgb"])
def test_inspect_reads_every_format_the_land_use_reader_takes(remnant, workdir, name):
    import geopandas
    demo = geopandas.read_file(ROOT / "scenarios" / "data" / "demo-district.gpkg", layer="land_use")
    demo.to_file(workdir / name)
    code, stdout, stderr = remnant("inspect", name, "--field", "class")
    assert code == 0, stderr
    assert "'farmland'" in stdout and "8 values; 778 polygon features, 3600.00 ha" in stdout
    assert "inside the area where WGS 84 / UTM zone 34N is used, as the CRS says" in stdout


def test_inspect_tells_coordinates_that_do_not_fit_the_declared_crs(remnant, workdir):
    import geopandas
    demo = geopandas.read_file(ROOT / "scenarios" / "data" / "demo-district.gpkg", layer="land_use")
    demo.set_crs("EPSG:4326", allow_override=True).to_file(workdir / "wrong.gpkg")  # metres labelled degrees
    code, stdout, _ = remnant("inspect", "wrong.gpkg")
    assert code == 0 and "they go beyond +-180/+-90, so they are not the degrees the CRS says" in stdout
    demo.to_file(workdir / "bare.shp")
    (workdir / "bare.prj").unlink()
    code, stdout, _ = remnant("inspect", "bare.shp")
    assert code == 0 and "CRS: none declared" in stdout and "they look projected (not degrees)" in stdout
    code, stdout, stderr = remnant("inspect", "bare.shp", "--field", "class", "--source-crs", "EPSG:32634")
    assert code == 0 and "3600.00 ha" in stdout, stderr


def test_inspect_reads_a_shapefile_without_its_index_and_leaves_it_so(remnant, workdir):
    import geopandas
    geopandas.read_file(ROOT / "scenarios" / "data" / "demo-district.gpkg", layer="land_use").to_file(workdir / "a.shp")
    (workdir / "a.shx").unlink()
    code, stdout, stderr = remnant("inspect", "a.shp", "--field", "class")
    assert code == 0 and "778 Polygon features" in stdout and "3600.00 ha" in stdout, stderr
    assert not (workdir / "a.shx").exists()


def test_validate_lists_every_unmapped_value_with_its_features_and_area(remnant, workdir):
    assert remnant("init", "mine", "--land-use", EXTRACT, "--strikes", "strikes.csv")[0] == 0
    code, stdout, stderr = remnant("validate", "mine/scenario.toml", "--set", "land_use.class_field=landuse,natural,building")
    assert code == 0, stderr
    listed = re.findall(r"unmapped '([^']+)': (\d+) features?, ([\d.]+) ha", stdout)
    assert len(listed) == 10 and ("yes", "975", "8.80") in listed  # building=yes: the untyped buildings
    summary = re.search(r"(\d+) with unmapped values \((\d+) values\)", stdout)
    assert summary and int(summary[1]) == sum(int(n) for _, n, _ in listed) and int(summary[2]) == len(listed)
    assert "warning: 10 raw values of land_use.class_field are in no class" in stdout
    assert "K4 (lon 26.99000, lat 60.53120)" in stdout


def test_init_on_a_layer_without_crs_names_its_option_and_takes_source_crs(remnant, workdir):
    import geopandas
    geopandas.read_file(ROOT / "scenarios" / "data" / "demo-district.gpkg", layer="land_use").to_file(workdir / "b.shp")
    (workdir / "b.prj").unlink()
    code, _, stderr = remnant("init", "b", "--land-use", "b.shp")
    assert code == 2 and "--source-crs" in stderr and not (workdir / "b").exists()
    code, stdout, stderr = remnant("init", "b", "--land-use", "b.shp", "--source-crs", "EPSG:32634")
    assert code == 0 and "8 classes, one per value of 'class'" in stdout, stderr
    raw = tomllib.loads((workdir / "b" / "scenario.toml").read_text(encoding="utf-8"))
    assert raw["land_use"]["source_crs"] == "EPSG:32634" and raw["study_area"]["extent_m"] == [
        500000.0, 4700000.0, 506000.0, 4706000.0]


def test_the_catalog_footer_names_the_profiles_table(remnant):
    code, stdout, _ = remnant("catalog")
    assert code == 0 and "set your own in a scenario's [[profiles]]." in " ".join(stdout.split())
