"""Parameter paths, scenario variants and ``remnant sweep`` on the tiny scenario."""

from __future__ import annotations

import json
import math
import shutil

import numpy as np
import pandas as pd
import pytest

from simulator.config.keypath import Setting
from simulator.config.variants import Variants
from simulator.errors import InputError
from simulator.studies.sweep import parse_values, run_sweep
from tests.conftest import TINY_TOML, call_remnant, write_tiny

CLEARANCE = """
[clearance]
start = 2024-07-01
teams = { nts = 1, ts = 1, bac = 1 }
"""


@pytest.fixture
def tiny_clearance(tmp_path):
    text = TINY_TOML.replace("end = 2025-01-01", "end = 2030-01-01") + CLEARANCE
    return write_tiny(tmp_path, text)


# ------------------------------------------------------------------------------ values
def test_values_as_list_or_inclusive_range():
    assert parse_values("0.02,0.1,0.2") == [0.02, 0.1, 0.2]
    assert parse_values("5") == [5.0]
    values = parse_values("0.02:0.40:10")
    assert len(values) == 10 and values[0] == 0.02 and math.isclose(values[-1], 0.40)
    assert np.allclose(np.diff(values), 0.38 / 9)


@pytest.mark.parametrize("spec", ["", "a,b", "0.1,,0.2", "0.1:0.2", "0.1:0.2:1", "0.1:0.2:x", "1:2:3:4", "nan",
                                  "0.1,0.1"])
def test_bad_values_are_one_input_error(spec):
    with pytest.raises(InputError) as info:
        parse_values(spec)
    assert "--values" in str(info.value) and "\n" not in str(info.value)


# ------------------------------------------------------------------------------- paths
def test_wildcard_sets_every_strike_and_fills_the_profile_default(tiny):
    variants = Variants.read(tiny)
    variant = variants.variant([Setting("strikes[*].dud_rate.mean", 0.3)])
    strikes = variant.loaded.scenario.strikes
    assert [s.dud_rate.mean for s in strikes] == [0.3, 0.3, 0.3]
    # A1 keeps its spread, R1 had none (0), D1 had no dud_rate: its profile's default spread
    profile = variant.loaded.profiles["dispenser-202"]
    assert strikes[0].dud_rate.spread == 0.03 and strikes[1].dud_rate.spread == 0.0
    assert strikes[2].dud_rate.spread == profile.dud_rate.spread > 0
    # the file's scenario is unchanged
    assert variants.variant().loaded.scenario.strikes[2].dud_rate is None


def test_low_dud_mean_caps_the_spread_so_the_beta_stays_valid(tiny):
    variant = Variants.read(tiny).variant([Setting("strikes[*].dud_rate.mean", 0.005)])
    for strike in variant.loaded.scenario.strikes:
        dud = strike.dud_rate
        assert dud.spread <= 0.5 * math.sqrt(dud.mean * (1 - dud.mean)) + 1e-12
    assert any("capped" in note for note in variant.notes)


def test_one_strike_selectors_scale_and_joined_paths(tiny):
    variants = Variants.read(tiny)
    sc = variants.variant([Setting("strikes[1].dud_rate.mean", 0.35)]).loaded.scenario
    assert [s.dud_rate.mean if s.dud_rate else None for s in sc.strikes] == [0.1, 0.35, None]
    sc = variants.variant([Setting("strikes[id=A1].carriers", 9)]).loaded.scenario
    assert [s.carriers for s in sc.strikes] == [9, 4, 1]
    sc = variants.variant([Setting("strikes[*].carriers", 1.6, scale=True)]).loaded.scenario
    assert [s.carriers for s in sc.strikes] == [10, 6, 2]          # integers stay integers (rounded)
    altitude = Setting("strikes[profile=dispenser-202].function_altitude_m", 2.0, scale=True)
    sc = variants.variant([altitude]).loaded.scenario
    assert sc.strikes[2].function_altitude_m == 600.0
    joined = "strikes[id=A1].azimuth_deg|strikes[id=R1].azimuth_deg"
    sc = variants.variant([Setting(joined, 10.0)]).loaded.scenario
    assert [s.azimuth_deg for s in sc.strikes] == [10.0, 10.0, 90.0]
    assert variants.get("strikes[*].dud_rate.mean") == {
        "strikes[0].dud_rate.mean": 0.1, "strikes[1].dud_rate.mean": 0.2, "strikes[2].dud_rate.mean": 0.07}


def test_profile_paths_copy_the_catalog_profile_into_the_scenario(tiny):
    variants = Variants.read(tiny)
    base = variants.catalog()["rocket-220mm-30"]
    loaded = variants.variant([Setting("profile.rocket-220mm-30.delivery_error.range_sd_m", 2.0, scale=True)]).loaded
    assert loaded.profiles["rocket-220mm-30"].delivery_error.range_sd == 2.0 * base.delivery_error.range_sd
    assert loaded.profiles["artillery-155mm-88"] == variants.catalog()["artillery-155mm-88"]
    assert [p.id for p in loaded.scenario.profiles] == ["rocket-220mm-30"]
    # a probable error is replaced by the standard deviation it is set as
    raw, _ = variants.raw_with([Setting("profile.rocket-220mm-30.delivery_error.range_pe_m", 100.0)])
    error = raw["profiles"][0]["delivery_error"]
    assert error["range_pe_m"] == 100.0 and "range_sd_m" not in error
    loaded = variants.variant([Setting("profile.*.delivery_error.aim_sd_m", 0.0)]).loaded
    assert {loaded.profiles[s.profile].delivery_error.aim_sd_m for s in loaded.scenario.strikes} == {0.0}
    assert sorted(p.id for p in loaded.scenario.profiles) == ["artillery-155mm-88", "dispenser-202", "rocket-220mm-30"]
    # a profile's default dud rate: its spread is capped like a strike's
    loaded = variants.variant([Setting("profile.dispenser-202.dud_rate.mean", 0.002)]).loaded
    prior = loaded.profiles["dispenser-202"].dud_rate
    assert prior.mean == 0.002 and prior.spread <= 0.5 * math.sqrt(0.002 * 0.998) + 1e-12


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("strikes[*].dud_rat.mean", "did you mean 'dud_rate'?"),
        ("simulaton.seed", "did you mean 'simulation'?"),
        ("clearance.detection_probabilty", "did you mean 'detection_probability'?"),
        ("strikes[7].carriers", "index 7 is out of range"),
        ("strikes[id=ZZ].carriers", "matches nothing"),
        ("strikes[x].carriers", "is not a valid key path"),
        ("profile.rocket-220mm-3.delivery_error.range_sd_m", "did you mean 'rocket-220mm-30'?"),
        ("profile.dispenser-202.pattern.length_m", "footprint_by_altitude"),
        ("profile.rocket-220mm-30", "names a profile but no key"),
        ("clearance.detection_probability", "the scenario has no [clearance]"),
    ],
)
def test_unknown_paths_name_the_nearest_valid_key(tiny, path, expected):
    with pytest.raises(InputError) as info:
        Variants.read(tiny).variant([Setting(path, 1.0)])
    assert expected in str(info.value) and "\n" not in str(info.value)


def test_bad_values_get_the_loader_error(tiny):
    with pytest.raises(InputError) as info:
        Variants.read(tiny).variant([Setting("strikes[*].dud_rate.mean", 1.5)])
    assert "strikes[0].dud_rate.mean" in str(info.value) and "tiny.toml" in str(info.value)


# ------------------------------------------------------------------------------ sweeps
def test_common_random_numbers_across_points(tiny):
    """A parameter that cannot move the remnants leaves every realization exactly as it was."""
    result = run_sweep(Variants.read(tiny), "hazard.threshold", [0.1, 0.3, 0.6], realizations=24, threads=1)
    wide = result.per_realization.pivot(index="realization", columns="value", values="remnants")
    assert (wide.nunique(axis=1) == 1).all()
    assert result.table["hazardous_ha"].is_monotonic_decreasing
    assert result.table["hazardous_ha"].iloc[0] > result.table["hazardous_ha"].iloc[-1]


def test_remnants_rise_with_the_dud_rate_mean(tiny):
    """With common random numbers the remnant curve is monotone in the dud-rate mean.

    What is exact and what is not (see ``kernels/scatter.py``): a strike's stream draws the
    aim error, then per carrier the impact point, its dud probability (a Beta variate by
    rejection, so not monotone in the mean) and its dud count (a binomial by inversion of one
    uniform when n p <= 16: monotone in p), then one pattern point per dud. A changed count
    shifts the stream for the later carriers, so single realizations need not move in step;
    the mean and the median over realizations do, as tested here on a coarse grid.
    """
    values = parse_values("0.02:0.40:6")
    result = run_sweep(Variants.read(tiny), "strikes[*].dud_rate.mean", values, realizations=60, threads=2)
    table = result.table
    assert table["remnants_mean"].is_monotonic_increasing and table["remnants_p50"].is_monotonic_increasing
    assert table["contaminated_ha_mean"].is_monotonic_increasing
    assert table["remnants_mean"].iloc[-1] > 10 * table["remnants_mean"].iloc[0]


def test_exactly_monotone_per_realization_where_the_draws_stay_coupled(tiny):
    """One carrier per strike, no Beta spread and n p <= 16 (inversion): each realization's
    duds at a higher rate are a superset of those at a lower rate, so every realization's
    remnants and contaminated area are non-decreasing."""
    variants = Variants.read(tiny).derive([Setting("strikes[*].carriers", 1),
                                           Setting("strikes[*].dud_rate.spread", 0.0)])
    values = list(np.linspace(0.01, 0.075, 7))           # 202 x 0.075 < 16
    result = run_sweep(variants, "strikes[*].dud_rate.mean", values, realizations=80, threads=2)
    for metric in ("remnants", "contaminated_ha"):
        wide = result.per_realization.pivot(index="realization", columns="value", values=metric).to_numpy()
        assert (np.diff(wide, axis=1) >= 0).all(), metric


def test_sweep_with_clearance_reports_years_to_completion(tiny_clearance):
    result = run_sweep(Variants.read(tiny_clearance), "strikes[*].dud_rate.mean", [0.05, 0.3], realizations=16,
                       threads=1)
    table = result.table
    for column in ("years_to_completion_p5", "years_to_completion_p50", "years_to_completion_p95",
                   "remaining_ha_p50", "p_completed_within_horizon"):
        assert column in table
    assert table["years_to_completion_p50"].iloc[1] >= table["years_to_completion_p50"].iloc[0]
    assert result.plot().axes


# --------------------------------------------------------------------------------- CLI
@pytest.fixture(scope="module")
def sweep_run(tmp_path_factory):
    """``remnant sweep`` of the tiny scenario's dud rate over 3 values, 8 realizations each: (exit code,
    stderr) and its output folder."""
    folder = tmp_path_factory.mktemp("sweep")
    out = folder / "sweep"
    code, _, stderr = call_remnant("sweep", write_tiny(folder), "--param", "strikes[*].dud_rate.mean", "--values",
                                   "0.05:0.25:3", "--realizations", "8", "--threads", "1", "--out", out)
    return (code, stderr), out


def test_sweep_command_writes_csv_plot_and_record(sweep_run):
    (code, stderr), out = sweep_run
    assert code == 0, stderr
    assert "3 values x 8 realizations" in stderr
    assert {p.name for p in out.iterdir()} == {"sweep.csv", "sweep_realizations.csv", "sweep.png", "sweep.json"}
    table = pd.read_csv(out / "sweep.csv")
    assert list(table["value"]) == pytest.approx([0.05, 0.15, 0.25])
    for column in ("remnants_p5", "remnants_p50", "remnants_p95", "contaminated_ha_p50", "hazardous_ha"):
        assert column in table
    record = json.loads((out / "sweep.json").read_text())
    assert record["parameter"] == "strikes[*].dud_rate.mean" and record["common_random_numbers"] is True
    assert len(pd.read_csv(out / "sweep_realizations.csv")) == 3 * 8


def test_sweep_refuses_an_existing_folder_and_bad_input_in_one_line(remnant, sweep_run, tiny, tmp_path):
    out = tmp_path / "sweep"
    shutil.copytree(sweep_run[1], out)  # a finished sweep's folder
    args = ["sweep", tiny, "--param", "strikes[0].dud_rate.mean", "--realizations", "4", "--threads", "1", "--out", out]
    before = (out / "sweep.csv").read_bytes()
    code, _, stderr = remnant(*args, "--values", "0.1,0.3")
    assert code == 2 and "--overwrite" in stderr and (out / "sweep.csv").read_bytes() == before
    assert remnant(*args, "--values", "0.1,0.3", "--overwrite", "--quiet")[0] == 0
    assert (out / "sweep.csv").read_bytes() != before
    for bad, expected in [(["--values", "0.1:0.3"], "--values"), (["--values", "0.1,1.5"], "less than or equal to 1")]:
        code, _, stderr = remnant(*args[:-2], "--out", tmp_path / "bad", *bad)
        assert code == 2 and expected in stderr and len(stderr.strip().splitlines()) == 1
    code, _, stderr = remnant("sweep", tiny, "--param", "strikes[*].dudrate.mean", "--values", "0.1",
                              "--out", tmp_path / "bad")
    assert code == 2 and "did you mean 'dud_rate'?" in stderr and len(stderr.strip().splitlines()) == 1
    assert not (tmp_path / "bad").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


LOCAL_PROFILE = """[[profile]]
id = "rocket-local"
family = "rocket"
name = "local rocket estimate"
submunitions_per_carrier = 12
pattern = { kind = "uniform-ellipse", length_m = 150.0, width_m = 90.0 }
delivery_error = { range_sd_m = 200.0, deflection_sd_m = 100.0 }
dud_rate = { mean = 0.1 }
sources = { all = "assumption: test profile" }
"""


@pytest.mark.parametrize("line, expected", [
    ("submunitions_per_carrier = -12", "profile[0].submunitions_per_carrier: -12 is out of range"),
    ("dud_rate = { mean = 0.1, spread = 0.6 }", "profile[0].dud_rate"),
    ("dud_rate = { mean = nan }", "profile[0].dud_rate.mean: nan is not a finite number"),
])
def test_sweep_checks_the_catalog_file_as_run_does(remnant, tmp_path, line, expected):
    key = line.split(" = ")[0] + " = "
    profile = [line if old.startswith(key) else old for old in LOCAL_PROFILE.splitlines()]
    (tmp_path / "mine.toml").write_text("\n".join(profile) + "\n")
    path = write_tiny(tmp_path, 'catalog = "mine.toml"\n' + TINY_TOML)
    sweep = ["sweep", path, "--param", "strikes[0].dud_rate.mean", "--values", "0.1", "--out", tmp_path / "sw"]
    for command in (["run", path, "--out", tmp_path / "run"], sweep):
        code, _, stderr = remnant(*command)
        assert code == 2 and len(stderr.strip().splitlines()) == 1, stderr
        assert "mine.toml" in stderr and expected in stderr, stderr
    assert not (tmp_path / "run").exists() and not (tmp_path / "sw").exists()


def test_sweep_json_is_strict_when_clearance_does_not_finish(remnant, tmp_path):
    """Years beyond the time axis are inf in the CSV and null in the JSON."""
    path = write_tiny(tmp_path, TINY_TOML + CLEARANCE.replace("bac = 1", "bac = 0.01"))

    def refuse(constant):
        raise AssertionError(f"non-standard JSON constant {constant}")

    code, stdout, stderr = remnant("sweep", path, "--param", "strikes[*].dud_rate.mean", "--values", "0.1,0.2",
                                   "--realizations", "6", "--threads", "1", "--out", tmp_path / "o", "--json")
    assert code == 0, stderr
    record = json.loads(stdout, parse_constant=refuse)
    assert [row["years_to_completion_p50"] for row in record["table"]] == [None, None]
    assert [row["p_completed_within_horizon"] for row in record["table"]] == [0.0, 0.0]
    table = pd.read_csv(tmp_path / "o" / "sweep.csv")
    assert np.isinf(table["years_to_completion_p50"]).all()
