"""Sweeps over a grid of two parameters, ``--label``, and the one metric registry studies share."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from simulator.config.keypath import Setting
from simulator.config.variants import Variants
from simulator.studies.metrics import METRICS, RunMetrics, sensitivity_descriptions, sensitivity_figures
from simulator.studies.sweep import Axis, column_help, run_grid, run_sweep
from tests.conftest import TINY_TOML, write_tiny

CLEARANCE = """
[clearance]
start = 2024-07-01
teams = { nts = 1, ts = 1, bac = 1 }
"""
DUDS, TEAMS = "strikes[*].dud_rate.mean", "clearance.teams.bac"


@pytest.fixture
def tiny_clearance(tmp_path):
    return write_tiny(tmp_path, TINY_TOML.replace("end = 2025-01-01", "end = 2030-01-01") + CLEARANCE)


@pytest.fixture
def grid(tiny_clearance):
    variants = Variants.read(tiny_clearance)
    axes = [Axis(DUDS, [0.05, 0.3], "dud rate"), Axis(TEAMS, [1.0, 3.0, 6.0], "BAC teams")]
    return variants, run_grid(variants, axes, realizations=10, threads=1)


def test_a_grid_has_every_combination_once(grid):
    _, result = grid
    table = result.table
    assert len(table) == 6 and result.is_grid
    assert set(zip(table["value"], table["value_2"])) == {(d, t) for d in (0.05, 0.3) for t in (1.0, 3.0, 6.0)}
    assert len(result.per_realization) == 6 * 10
    for m in METRICS.values():
        assert (f"{m.name}_p50" in table) == m.per_realization or m.name == "casualties"
    assert {"hazardous_ha", "hazardous_ha_se", "remnants_mean_se", "p_completed_within_horizon"} <= set(table)


def test_a_grid_point_is_the_one_parameter_sweep_with_the_other_set(grid):
    """Common random numbers: the grid's point (d, t) is exactly the sweep of d with t set."""
    variants, result = grid
    line = run_sweep(variants.derive([Setting(TEAMS, 3.0)]), DUDS, [0.05, 0.3], realizations=10, threads=1).table
    point = result.table[result.table["value_2"] == 3.0].reset_index(drop=True)
    for column in ("remnants_mean", "contaminated_ha_p50", "hazardous_ha", "years_to_completion_p50",
                   "remaining_ha_mean"):
        assert np.array_equal(point[column].to_numpy(), line[column].to_numpy(), equal_nan=True), column


def test_teams_do_not_move_the_remnants_and_duds_do(grid):
    _, result = grid
    wide = result.table.pivot(index="value_2", columns="value", values="remnants_mean")
    assert (wide.nunique(axis=0) == 1).all()                     # the same remnants for every team count
    assert (wide[0.3] > wide[0.05]).all()
    years = result.table.pivot(index="value_2", columns="value", values="years_to_completion_p50")
    assert (years.loc[6.0] <= years.loc[1.0]).all()              # six teams never take longer than one


def test_grid_figures_label_the_axes(grid):
    _, result = grid
    assert result.plot().axes[2].get_xlabel() == "dud rate"
    heat = result.heat_map()
    assert [ax.get_xlabel() for ax in heat.axes if ax.get_visible()][:4] == ["dud rate"] * 4
    assert heat.axes[0].get_ylabel() == "BAC teams"
    record = result.record()
    assert record["grid"] and record["parameter_2"] == TEAMS and record["values_2"] == [1.0, 3.0, 6.0]
    assert record["label"] == "dud rate" and record["label_2"] == "BAC teams"
    assert column_help(result)["value_2"] == f"the value of {TEAMS}"


@pytest.mark.slow
def test_sweep_command_runs_a_grid_with_labels(remnant, tiny_clearance, tmp_path):
    out = tmp_path / "grid"
    code, stdout, stderr = remnant("sweep", tiny_clearance, "--param", DUDS, "--values", "0.05,0.3", "--param", TEAMS,
                                   "--values", "1,4", "--label", "dud rate", "--label", "BAC teams",
                                   "--realizations", "6", "--threads", "1", "--out", out)
    assert code == 0, stderr
    assert "grid of" in stderr and "2 x 2 values x 6 realizations = 4 model runs" in stderr
    assert {p.name for p in out.iterdir()} == {"sweep.csv", "sweep_realizations.csv", "sweep.png", "sweep_grid.png",
                                               "sweep.json"}
    table = pd.read_csv(out / "sweep.csv")
    assert list(zip(table["value"], table["value_2"])) == [(0.05, 1), (0.05, 4), (0.3, 1), (0.3, 4)]
    assert json.loads((out / "sweep.json").read_text())["label_2"] == "BAC teams"
    assert "dud rate" in stdout and "BAC teams" in stdout


def test_one_parameter_sweep_takes_a_label(tiny):
    result = run_sweep(Variants.read(tiny), DUDS, [0.1, 0.2], realizations=4, threads=1, label="dud rate")
    assert not result.is_grid and result.record()["label"] == "dud rate"
    assert result.plot().axes[2].get_xlabel() == "dud rate"


@pytest.mark.parametrize("args, expected", [
    (["--param", DUDS, "--values", "0.1,0.2", "--values", "1,2"], "give one --values per --param"),
    (["--param", DUDS, "--values", "0.1,0.2", "--label", "a", "--label", "b"], "give one --label per --param"),
    (["--param", DUDS, "--values", "0.1", "--param", DUDS, "--values", "0.2"], "is given twice"),
    (["--param", DUDS, "--values", "0.1", "--param", "hazard.threshold", "--values", "0.2", "--param",
      "clearance.teams.ts", "--values", "1"], "a sweep takes one or two"),
])
def test_bad_grids_are_one_line_exit_2(remnant, tiny_clearance, tmp_path, args, expected):
    code, stdout, stderr = remnant("sweep", tiny_clearance, *args, "--out", tmp_path / "bad")
    assert code == 2 and expected in stderr and len(stderr.strip().splitlines()) == 1 and "Traceback" not in stderr
    assert not (tmp_path / "bad").exists()


# ----------------------------------------------------------------------- the metric registry
def test_sensitivity_reads_each_metric_by_its_statistic():
    """Means of per-realization metrics, the ensemble figure as is, and the median of years capped
    at the time axis when more than half the realizations are not done."""
    metrics = RunMetrics(remnants=np.array([1.0, 2.0, 6.0]), contaminated_ha=np.array([0.5, 0.5, 2.0]),
                         hazardous_ha=7.0, hazardous_ha_se=0.5, remaining_ha=np.array([0.0, 1.0, 2.0]),
                         years_to_completion=np.array([1.0, math.inf, math.inf]), horizon_years=5.5)
    figures, capped = sensitivity_figures(metrics)
    assert figures == {"remnants": 3.0, "contaminated_ha": 1.0, "hazardous_ha": 7.0, "remaining_ha": 1.0,
                       "years_to_completion_p50": 5.5}
    assert capped
    done = RunMetrics(remnants=np.ones(3), contaminated_ha=np.ones(3), hazardous_ha=1.0,
                      years_to_completion=np.array([1.0, 2.0, 4.0]), remaining_ha=np.zeros(3), horizon_years=5.5)
    assert sensitivity_figures(done) == ({"remnants": 1.0, "contaminated_ha": 1.0, "hazardous_ha": 1.0,
                                          "remaining_ha": 0.0, "years_to_completion_p50": 2.0}, False)
    assert set(figures) <= set(sensitivity_descriptions())


def test_bands_hold_the_standard_error_of_each_mean():
    values = np.array([1.0, 2.0, 3.0, 10.0])
    metrics = RunMetrics(remnants=values, contaminated_ha=values * 2, hazardous_ha=3.0, hazardous_ha_se=0.25)
    row = metrics.bands()
    assert row["remnants_mean"] == 4.0
    assert row["remnants_mean_se"] == pytest.approx(np.std(values, ddof=1) / 2)
    assert row["contaminated_ha_p50"] == 5.0 and (row["hazardous_ha"], row["hazardous_ha_se"]) == (3.0, 0.25)
    assert "years_to_completion_p50" not in row
