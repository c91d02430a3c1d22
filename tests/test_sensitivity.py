"""Sobol' indices: the evaluation layer on functions with known indices, ranges files, the scenario
model and ``remnant sensitivity``."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from simulator.config.variants import Variants
from simulator.errors import InputError
from simulator.studies.sensitivity import (
    Factor,
    check_samples,
    factors_from_mapping,
    model_runs,
    read_ranges,
    run_sensitivity,
    sample,
    sobol,
)


def ishigami(x, a=7.0, b=0.1):
    return math.sin(x[0]) + a * math.sin(x[1]) ** 2 + b * x[2] ** 4 * math.sin(x[0])


def ishigami_indices(a=7.0, b=0.1):
    """Analytic first-order and total indices of the Ishigami function on [-pi, pi]^3."""
    v1 = 0.5 * (1 + b * math.pi**4 / 5) ** 2
    v2 = a**2 / 8
    v13 = b**2 * math.pi**8 * (1 / 18 - 1 / 50)
    v = v1 + v2 + v13
    return [v1 / v, v2 / v, 0.0], [(v1 + v13) / v, v2 / v, v13 / v]


def test_ishigami_indices_within_their_confidence_intervals():
    factors = [Factor(f"x{i}", -math.pi, math.pi) for i in (1, 2, 3)]
    result = sobol(ishigami, factors, 1024, seed=1)
    assert result.runs == model_runs(1024, 3) == 5120
    found = result.indices("y")
    s1, st = ishigami_indices()
    assert np.all(np.abs(found["S1"].to_numpy() - s1) <= found["S1_conf"].to_numpy())
    assert np.all(np.abs(found["ST"].to_numpy() - st) <= found["ST_conf"].to_numpy())
    assert np.all(found["ST_conf"].to_numpy() < 0.1)


def test_linear_model_indices_are_the_variance_shares():
    """Y = a1 X1 + a2 X2 with uniform X: S1_i = ST_i = a_i^2 Var(X_i) / Var(Y)."""
    a = np.array([1.0, 2.0, 0.0])
    widths = np.array([1.0, 1.0, 1.0])
    factors = [Factor(f"x{i}", 0.0, w) for i, w in enumerate(widths)]
    result = sobol(lambda x: {"y": float(a @ x)}, factors, 512, seed=3)
    expected = a**2 * widths**2 / np.sum(a**2 * widths**2)
    found = result.indices("y")
    for key in ("S1", "ST"):
        assert np.all(np.abs(found[key].to_numpy() - expected) <= np.maximum(found[f"{key}_conf"].to_numpy(), 1e-9))
    assert found["ST"].iloc[2] == pytest.approx(0.0, abs=1e-12)


def test_constant_output_gives_no_indices_and_a_note():
    result = sobol(lambda x: {"y": 1.0}, [Factor("a", 0, 1), Factor("b", 0, 1)], 8)
    assert result.table[["S1", "ST"]].isna().all().all() and "does not vary" in result.notes[0]


def test_samples_must_be_a_power_of_two():
    check_samples(64)
    with pytest.raises(InputError, match="power of two, e.g. 32 or 64"):
        check_samples(48)
    assert sample([Factor("a", 0, 1)], 8).shape == (8 * 3, 1)


# ------------------------------------------------------------------------------ ranges
def test_ranges_file_flat_nested_and_scaled(tiny, tmp_path):
    path = tmp_path / "ranges.toml"
    path.write_text(
        '"strikes[*].dud_rate.mean" = [0.02, 0.4]\n'
        '"profile.*.delivery_error.range_sd_m" = { scale = [0.5, 1.5] }\n'
        "[simulation]\nseed = [1, 9]\n"
    )
    factors = read_ranges(path, Variants.read(tiny))
    assert factors == [Factor("strikes[*].dud_rate.mean", 0.02, 0.4),
                       Factor("profile.*.delivery_error.range_sd_m", 0.5, 1.5, True),
                       Factor("simulation.seed", 1.0, 9.0)]
    assert factors[1].name.endswith("(x)")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('"strikes[*].dud_rate.mean" = [0.4, 0.02]', "low < high"),
        ('"strikes[*].dud_rate.mean" = 0.2', "is not a range"),
        ('"strikes[*].dud_rate.mean" = [0.1, "x"]', "is not a range"),
        ('"strikes[*].dud_rate.mean" = { scale = [1, 2], extra = 1 }', "scale"),
        ('"strikes[*].dud_rat.mean" = [0.1, 0.2]', "did you mean 'dud_rate'?"),
        ("", "holds no ranges"),
        ("x = [", "not valid TOML"),
    ],
)
def test_bad_ranges_are_one_line_naming_the_file(tiny, tmp_path, text, expected):
    path = tmp_path / "ranges.toml"
    path.write_text(text)
    with pytest.raises(InputError) as info:
        read_ranges(path, Variants.read(tiny))
    message = str(info.value)
    assert expected in message and "ranges.toml" in message and "\n" not in message


@pytest.mark.slow
def test_dud_rate_mean_dominates_remnants_when_its_range_is_widest(tiny):
    variants = Variants.read(tiny)
    factors = factors_from_mapping({
        "strikes[*].dud_rate.mean": [0.02, 0.40],
        "profile.*.delivery_error.range_sd_m": {"scale": [0.9, 1.1]},
        "strikes[*].azimuth_deg": {"scale": [0.95, 1.05]},
    }, "ranges", variants)
    result = run_sensitivity(variants, factors, 32, realizations=8, threads=2)
    assert result.runs == 32 * 5
    remnants = result.indices("remnants")
    dud = remnants.loc["strikes[*].dud_rate.mean"]
    others = remnants.drop(index="strikes[*].dud_rate.mean")
    assert dud["ST"] > 0.8 and dud["S1"] > 0.5
    assert (others["ST"] < 0.05).all() and dud["ST"] > 10 * others["ST"].max()
    contaminated = result.indices("contaminated_ha")
    assert contaminated["ST"].idxmax() == "strikes[*].dud_rate.mean"
    assert set(result.table["metric"]) == {"remnants", "contaminated_ha", "hazardous_ha"}   # no clearance here
    assert result.plot().axes


# --------------------------------------------------------------------------------- CLI
def test_sensitivity_command_prints_the_runs_first_and_writes_outputs(remnant, tiny, tmp_path):
    ranges = tmp_path / "ranges.toml"
    ranges.write_text('"strikes[*].dud_rate.mean" = [0.02, 0.4]\n"strikes[0].carriers" = [2, 8]\n')
    out = tmp_path / "sens"
    code, stdout, stderr = remnant("sensitivity", tiny, "--ranges", ranges, "--samples", "4", "--realizations", "4",
                                   "--threads", "1", "--out", out)
    assert code == 0, stderr
    assert "4 base samples x (2 + 2) = 16 model runs of 4 realizations" in stderr
    assert {p.name for p in out.iterdir()} == {"sensitivity.csv", "sensitivity_runs.csv", "sensitivity.png",
                                               "sensitivity.json"}
    table = pd.read_csv(out / "sensitivity.csv")
    assert list(table.columns) == ["metric", "parameter", "S1", "S1_conf", "ST", "ST_conf"]
    assert len(pd.read_csv(out / "sensitivity_runs.csv")) == 16
    assert json.loads((out / "sensitivity.json").read_text())["model_runs"] == 16


def test_sensitivity_bad_input_is_one_line(remnant, tiny, tmp_path):
    ranges = tmp_path / "ranges.toml"
    ranges.write_text('"strikes[*].dud_rate.mean" = [0.02, 1.4]\n')
    clearance = tmp_path / "clearance.toml"
    clearance.write_text("[clearance]\ndetection_probability = [0.8, 0.99]\n")
    for args, expected in [
        (["--ranges", ranges, "--samples", "6"], "power of two"),
        (["--ranges", ranges], "narrow the range"),
        (["--ranges", clearance], "clearance.toml: clearance.detection_probability: acts on land release"),
        (["--ranges", tmp_path / "missing.toml"], "file not found"),
    ]:
        code, _, stderr = remnant("sensitivity", tiny, *args, "--out", tmp_path / "o")
        assert code == 2 and expected in stderr and len(stderr.strip().splitlines()) == 1, stderr
    assert not (tmp_path / "o").exists()
