"""Scenario loading: valid files load, bad ones fail with one line naming file, field, value, fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.config.keypath import AllItems, Select, format_parts, parse_parts
from simulator.config.variants import load_scenario
from simulator.engine.prepare import prepare
from simulator.errors import InputError

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("path", sorted((ROOT / "scenarios").glob("*.toml")), ids=lambda p: p.name)
def test_every_shipped_scenario_validates(path):
    setup = prepare(load_scenario(path))
    assert setup.grid.n_cells > 0
    assert len(setup.strikes) >= len(setup.scenario.strikes) and len(setup.strikes) > 0
    assert setup.kernel.ti.shape[0] == len(setup.strikes)


def test_demo_district_uses_all_three_families():
    loaded = load_scenario(ROOT / "scenarios" / "demo-district.toml")
    families = {loaded.profiles[s.profile].family for s in loaded.scenario.strikes}
    assert families == {"artillery-projectile", "rocket", "air-dropped-dispenser"}
    assert 10 <= len(loaded.scenario.strikes) <= 30
    assert len({s.date for s in loaded.scenario.strikes}) == 2


def bad(tiny: Path, old: str, new: str) -> InputError:
    tiny.write_text(tiny.read_text().replace(old, new, 1))
    with pytest.raises(InputError) as info:
        prepare(load_scenario(tiny))
    return info.value


def test_unknown_key_suggests_the_nearest(tiny):
    error = bad(tiny, "carriers = 6", "carriers = 6\nazimuth_degs = 3")
    assert error.field == "strikes[0].azimuth_degs"
    assert "azimuth_deg" in error.fix and str(tiny) in error.line()


def test_unknown_top_level_key(tiny):
    error = bad(tiny, "[hazard]", "[hazards]")
    assert error.field == "hazards" and "'hazard'" in error.fix


def test_wrong_type_names_field_and_value(tiny):
    error = bad(tiny, "realizations = 40", 'realizations = "many"')
    assert error.field == "simulation.realizations" and error.value == "many"


def test_probability_outside_unit_interval(tiny):
    error = bad(tiny, "mean = 0.2 }", "mean = 1.5 }")
    assert error.field == "strikes[1].dud_rate.mean" and error.value == 1.5


def test_spread_too_large_for_a_beta(tiny):
    error = bad(tiny, "mean = 0.1, spread = 0.03", "mean = 0.1, spread = 0.4")
    assert error.field == "strikes[0].dud_rate" and "sqrt(mean * (1 - mean))" in error.fix


def test_missing_land_use_file(tiny):
    error = bad(tiny, 'path = "land_use.geojson"', 'path = "nowhere.gpkg"')
    assert error.field == "land_use.path" and "nowhere.gpkg" in error.line()


def test_unknown_profile_lists_known_ones(tiny):
    error = bad(tiny, 'profile = "rocket-220mm-30"', 'profile = "rocket-220mm"')
    assert error.field == "strikes[1].profile"
    assert "rocket-220mm-30" in error.fix and "dispenser-147" in error.fix


def test_strike_outside_time_axis(tiny):
    error = bad(tiny, "date = 2024-03-02", "date = 2023-03-02")
    assert error.field == "strikes[0].date" and "time.start" in error.fix


def test_time_axis_order(tiny):
    error = bad(tiny, "end = 2025-01-01", "end = 2023-01-01")
    assert error.field == "time" and "after start" in error.fix


def test_altitude_for_a_profile_without_altitude(tiny):
    error = bad(tiny, "carriers = 4\n", "carriers = 4\nfunction_altitude_m = 500.0\n")
    assert error.field == "strikes[1].function_altitude_m"


def test_toml_syntax_error(tiny):
    error = bad(tiny, "[hazard]", "[hazard")
    assert "not valid TOML" in error.line()


def test_missing_required_field(tiny):
    error = bad(tiny, "cell_size_m = 20\n", "")
    assert error.field == "study_area.cell_size_m" and "required" in error.line()


def test_paths_are_relative_to_the_scenario(tiny, monkeypatch, tmp_path_factory):
    monkeypatch.chdir(tmp_path_factory.mktemp("elsewhere"))
    assert load_scenario(tiny).scenario.land_use.path == tiny.parent.resolve() / "land_use.geojson"


def test_overrides_reach_nested_values(tiny):
    loaded = load_scenario(tiny, ["strikes[0].dud_rate.mean=0.3", "simulation.realizations=5", "name=other"])
    sc = loaded.scenario
    assert sc.strikes[0].dud_rate.mean == 0.3 and sc.simulation.realizations == 5 and sc.name == "other"


def test_override_errors(tiny):
    with pytest.raises(InputError, match="key.path=value"):
        load_scenario(tiny, ["simulation.realizations"])
    with pytest.raises(InputError, match="out of range"):
        load_scenario(tiny, ["strikes[9].carriers=3"])


def test_key_paths():
    parts = parse_parts("strikes[3].dud_rate.mean")
    assert parts == ("strikes", 3, "dud_rate", "mean") and format_parts(parts) == "strikes[3].dud_rate.mean"
    assert parse_parts("strikes[*].carriers") == ("strikes", AllItems(), "carriers")
    assert parse_parts("strikes[id=S07].carriers") == ("strikes", Select("id", "S07"), "carriers")
    for bad in ("strikes[", "a..b", ".a", "[0]", "strikes[x].carriers"):
        with pytest.raises(InputError, match="not a valid key path"):
            parse_parts(bad)


def test_set_takes_the_grammar_of_sweeps(tiny):
    """``remnant run --set`` reaches every strike, or the ones a selector names, as sweeps do."""
    every = load_scenario(tiny, ["strikes[*].dud_rate.mean=0.2"]).scenario
    assert [s.dud_rate.mean for s in every.strikes] == [0.2] * len(every.strikes)
    first = every.strikes[0].id
    one = load_scenario(tiny, [f"strikes[id={first}].carriers=2"]).scenario
    assert one.strikes[0].carriers == 2
    assert [s.carriers for s in one.strikes[1:]] == [s.carriers for s in every.strikes[1:]]
    with pytest.raises(InputError, match="matches nothing"):
        load_scenario(tiny, ["strikes[id=nobody].carriers=2"])
    with pytest.raises(InputError, match="did you mean 'carriers'"):
        load_scenario(tiny, ["strikes[0].carrier=2"])
