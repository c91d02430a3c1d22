"""Figures read at a glance: labelled axes with units, plain ticks, the deadline, hazard outlines in
the IMAS colours (never blue), a density ramp unlike any land-use colour, the OpenStreetMap credit
on maps of OSM data, and PNGs drawn at their own resolution."""

from __future__ import annotations

import tomllib
from pathlib import Path
from types import SimpleNamespace

import matplotlib.dates as mdates
import matplotlib.image as mpimg
import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_rgb

from simulator.config.scenario import LandUse
from simulator.config.variants import load_scenario
from simulator.outputs import plots
from simulator.outputs.styles import CHA_COLOUR, DENSITY_RAMP, SHA_COLOUR
from simulator.pipeline import simulate
from tests.conftest import TINY_TOML, write_tiny

ROOT = Path(__file__).resolve().parents[1]
CLEARANCE = """
[clearance]
start = 2024-07-01
deadline = 2025-01-01
policy = "land-use-priority"
work_unit_m = 100
teams = { nts = 1, ts = 1, bac = 1 }
"""
DEADLINE = pd.Timestamp("2025-01-01")


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    folder = tmp_path_factory.mktemp("figures")
    text = TINY_TOML.replace("[hazard]", CLEARANCE + "\n[hazard]\nsuspect_threshold = 0.05").replace(
        "end = 2025-01-01", "end = 2027-01-01")
    return simulate(load_scenario(write_tiny(folder, text), ["simulation.realizations=10"]), threads=1)


@pytest.fixture(scope="module")
def figures(result):
    sc = result.setup.scenario
    p = result.p_contaminated
    made = {
        "map": plots.district_map(result.setup, result.density_per_ha, p >= sc.hazard.threshold, "map",
                                  suspected=p >= sc.hazard.suspect_threshold),
        "hazardous_area": plots.area_over_time(result.hazardous_area, sc.land_use, "areas"),
        "land_release": plots.land_release(result.land_release_table, sc.land_use, "release", sc.clearance.deadline),
        "completion": plots.completion(result.completion, sc.clearance.deadline, "completion"),
    }
    for figure in made.values():
        figure.draw_without_rendering()
    return made


def plot_axes(figure):
    """The figure's data axes (not colour bars)."""
    return [ax for ax in figure.axes if ax.get_label() != "<colorbar>"]


def test_every_axis_is_labelled(figures):
    for name, figure in figures.items():
        for ax in plot_axes(figure):
            assert ax.get_xlabel() and ax.get_ylabel(), name
        assert "(" in plot_axes(figure)[0].get_ylabel(), name  # a unit or a scale in brackets


def test_tick_labels_are_plain_numbers(figures):
    for name, figure in figures.items():
        for ax in figure.axes:
            for label in [*ax.get_yticklabels(), *ax.get_xticklabels()]:
                text = label.get_text()
                assert "$" not in text and "^" not in text and "e+" not in text, (name, text)
    bar = next(ax for ax in figures["map"].axes if ax.get_label() == "<colorbar>")
    numbers = [float(t.get_text().replace(",", "")) for t in bar.get_yticklabels() if t.get_text()]
    assert numbers and all(np.log10(n) == round(np.log10(n)) for n in numbers)  # 1, 10, 100 on the log scale


def test_the_deadline_is_drawn_on_land_release_and_completion(figures):
    for name in ("land_release", "completion"):
        for ax in plot_axes(figures[name]):
            xs = [line.get_xdata() for line in ax.get_lines()]
            assert any(len(x) == 2 and x[0] == x[1] and mdates.date2num(x[0]) == mdates.date2num(DEADLINE)
                       for x in xs), name
    labels = [t.get_text() for ax in figures["land_release"].axes if ax.get_legend() for t in ax.get_legend().texts]
    assert "deadline 2025-01-01" in labels


def test_hazard_outlines_are_cha_red_and_sha_orange_never_blue(figures):
    ax = plot_axes(figures["map"])[0]
    colours = {tuple(np.round(c[:3], 3)) for collection in ax.collections if hasattr(collection, "levels")
               for c in np.atleast_2d(collection.get_edgecolor())}
    assert colours == {tuple(np.round(to_rgb(CHA_COLOUR), 3)), tuple(np.round(to_rgb(SHA_COLOUR), 3))}
    assert all(b <= max(r, g) for r, g, b in colours)


def test_the_lowest_density_colour_is_unlike_every_land_use_colour():
    """RGB distance (0-1 channels) to each shipped scenario's class colours as the map draws them."""
    lowest = np.array(DENSITY_RAMP(0.0)[:3])
    for scenario in sorted((ROOT / "scenarios").glob("*.toml")):
        classes = tomllib.loads(scenario.read_text())["land_use"]["classes"]
        for key, spec in classes.items():
            drawn = plots.LAND_USE_ALPHA * np.array(to_rgb(spec["colour"])) + (1 - plots.LAND_USE_ALPHA)  # on white
            assert np.linalg.norm(lowest - drawn) > 0.15, (scenario.name, key, spec["colour"])
            if key == "farmland":
                assert np.linalg.norm(lowest - np.array(to_rgb(spec["colour"]))) > 0.4


@pytest.mark.parametrize(("path", "credited"), [
    ("data/osm-rural-finland.osm.pbf", True), ("extract.osm", True), ("gis_osm_landuse_a_free_1.shp", True),
    ("osm-extract.gpkg", True), ("data/demo-district.gpkg", False), ("cosmos.gpkg", False), ("zoning.shp", False),
])
def test_the_openstreetmap_credit_follows_the_land_use_source(path, credited):
    land_use = LandUse.model_construct(path=Path(path))
    assert (plots.osm_credit(land_use) == plots.OSM_CREDIT) is credited


def test_maps_of_osm_data_carry_the_credit_and_others_do_not(result, figures):
    texts = [t.get_text() for ax in figures["map"].axes for t in ax.texts]
    assert plots.OSM_CREDIT not in texts
    osm = result.setup.scenario.land_use.model_copy(update={"path": Path("x.osm.pbf")})
    setup = result.setup
    scenario = setup.scenario.model_copy(update={"land_use": osm})
    osm_setup = SimpleNamespace(grid=setup.grid, landuse_codes=setup.landuse_codes, inside=setup.inside,
                                class_keys=setup.class_keys, strikes=setup.strikes, scenario=scenario)
    figure = plots.district_map(osm_setup, result.density_per_ha, None, "m")
    assert plots.OSM_CREDIT in [t.get_text() for ax in figure.axes for t in ax.texts]


def test_pngs_have_the_figures_pixel_size(figures, tmp_path):
    for name, figure in figures.items():
        width, height = (round(v) for v in figure.bbox.size)
        path = tmp_path / f"{name}.png"
        figure.savefig(path, dpi=plots.FIGURE_DPI)
        assert mpimg.imread(path).shape[:2] == (height, width), name


def test_long_parameter_paths_are_broken_at_dots_and_brackets():
    path = "strikes[id=S07].dud_rate.mean|clearance.teams.bac"
    label = plots.path_label(path, width=16)
    assert label.replace("\n", "") == path and "\n" in label
    assert all(len(line) <= 16 or "." not in line[:-1] for line in label.splitlines())
    assert plots.path_label("seed") == "seed"
