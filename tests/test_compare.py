"""``remnant compare``: the rule on hand-written records, and whole runs of the tiny scenario."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import rasterio

from simulator.errors import InputError
from simulator.results.comparison import RULE_K, Z_LEVEL, compare_runs, headline
from tests.conftest import TINY_TOML, write_tiny

CLEARANCE = """
[clearance]
start = 2024-07-01
teams = { nts = 1, ts = 1, bac = 1 }
"""


def _record(folder, summary: dict, seed: int = 1) -> None:
    folder.mkdir()
    (folder / "run.json").write_text(json.dumps({"scenario_sha256": f"sha-{folder.name}", "seed": seed,
                                                 "summary": {"scenario": "s", "realizations": 100} | summary}))


# ------------------------------------------------------------------------- the rule by hand
def test_headline_reads_errors_from_se_and_from_intervals():
    summary = {"a": 10.0, "a_se": 0.5, "b_mean": 3.0, "b_mean_se": 0.1, "q": 4.0, "q_ci": [3.0, 5.0],
               "open": 4.0, "open_ci": [3.0, None], "bare": 7.0, "flag": True, "flag_se": 0.1,
               "nested": {"p": 0.4, "p_se": 0.02}}
    found = headline(summary)
    assert set(found) == {"a", "b_mean", "q", "open", "nested.p"}     # figures without an error are left out
    assert found["a"] == (10.0, 0.5) and found["nested.p"] == (0.4, 0.02)
    assert found["q"][1] == pytest.approx(2.0 / (2 * 1.959964), rel=1e-5)   # width / (2 z), z at 95 %
    assert found["open"][1] is None                                          # an interval beyond the time axis


@pytest.mark.parametrize("factor, exceeds", [(0.9, False), (1.1, True)])
def test_a_difference_exceeds_the_error_when_beyond_k_combined_standard_errors(tmp_path, factor, exceeds):
    se1, se2 = 3.0, 4.0                                                # combined: 5
    d = factor * RULE_K * 5.0
    _record(tmp_path / "one", {"hazardous_ha": 100.0, "hazardous_ha_se": se1})
    _record(tmp_path / "two", {"hazardous_ha": 100.0 + d, "hazardous_ha_se": se2})
    figure = compare_runs([tmp_path / "one", tmp_path / "two"]).figures[0]
    assert figure.label == "confirmed hazardous area (CHA)" and figure.unit == "ha"
    assert figure.difference(1) == pytest.approx(d)
    assert figure.allowance(1) == pytest.approx(RULE_K * math.hypot(se1, se2))
    assert figure.exceeds(1) is exceeds


def test_a_figure_one_run_lacks_cannot_be_judged(tmp_path):
    _record(tmp_path / "one", {"hazardous_ha": 100.0, "hazardous_ha_se": 1.0,
                               "land_release": {"cost_mean": 5.0, "cost_mean_se": 1.0}})
    _record(tmp_path / "two", {"hazardous_ha": 100.0, "hazardous_ha_se": 1.0})
    comparison = compare_runs([tmp_path / "one", tmp_path / "two"])
    cost = next(f for f in comparison.figures if f.key == "land_release.cost_mean")
    assert cost.values == [5.0, None] and cost.exceeds(1) is None
    record = comparison.record()
    assert record["baseline"] == "one" and "2 sqrt(se_1^2 + se_k^2)" in record["rule"]
    assert f"{Z_LEVEL:.2f}" == "1.96"


@pytest.mark.parametrize("make, expected", [
    (lambda p: None, "is not a folder"),
    (lambda p: p.mkdir(), "is not a remnant run (no run.json)"),
    (lambda p: (p.mkdir(), (p / "run.json").write_text("{not json")), "cannot be read"),
    (lambda p: (p.mkdir(), (p / "run.json").write_text('{"x": 1}')), "is not a remnant run record"),
    (lambda p: (p.mkdir(), (p / "run.json").write_text('{"summary": {"scenario": "s", "mode": "analytic"}}')),
     "preview without Monte Carlo errors"),
])
def test_what_is_not_a_run_is_one_line_exit_2(remnant, tmp_path, make, expected):
    _record(tmp_path / "good", {"hazardous_ha": 1.0, "hazardous_ha_se": 0.1})
    make(tmp_path / "bad")
    code, stdout, stderr = remnant("compare", tmp_path / "good", tmp_path / "bad")
    assert code == 2 and expected in stderr and "bad" in stderr
    assert len(stderr.strip().splitlines()) == 1 and "Traceback" not in stderr and stdout == ""
    with pytest.raises(InputError):
        compare_runs([tmp_path / "good"])                                   # one run is no comparison


# ------------------------------------------------------------------------ whole tiny runs
@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Three runs of the tiny scenario with clearance: base, a higher dud rate, and a coarser grid."""
    from simulator.cli.app import main

    folder = tmp_path_factory.mktemp("compare")
    scenario = write_tiny(folder, TINY_TOML.replace("end = 2025-01-01", "end = 2028-01-01") + CLEARANCE)
    made = {}
    for name, extra in (("base", []), ("more_duds", ["--set", "strikes[*].dud_rate.mean=0.4"]),
                        ("coarse", ["--set", "study_area.cell_size_m=25"])):
        args = ["remnant", "run", str(scenario), "--out", str(folder / name), "--realizations", "24", "--threads",
                "1", "--quiet", *extra]
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr("sys.argv", args)
            main()
        made[name] = folder / name
    return made


@pytest.mark.slow
def test_compare_flags_a_higher_dud_rate_and_not_a_run_with_itself(remnant, runs):
    code, stdout, stderr = remnant("compare", runs["base"], runs["more_duds"], runs["base"], "--json")
    assert code == 0, stderr
    record = json.loads(stdout)
    figures = {f["key"]: f for f in record["figures"]}
    duds = figures["expected_duds"]
    assert duds["differences"][0] > 0 and duds["exceeds_error"] == [True, False]
    assert duds["differences"][1] == 0
    assert duds["values"][0] == json.loads((runs["base"] / "run.json").read_text())["summary"]["expected_duds"]
    assert "land_release.years_to_completion_p50" in figures
    assert [run["label"] for run in record["runs"]] == ["base", "more_duds", "base"]


@pytest.mark.slow
def test_compare_table_names_the_rule_and_each_run(remnant, runs):
    code, stdout, stderr = remnant("compare", runs["base"], runs["more_duds"])
    assert code == 0, stderr
    assert "beyond error" in stdout and "2 sqrt(se_1^2 + se_k^2)" in stdout
    assert "expected duds" in stdout and str(runs["more_duds"]) in stdout.replace("\n", "")


@pytest.mark.slow
def test_compare_out_writes_the_difference_map_of_the_two_rasters(remnant, runs, tmp_path):
    out = tmp_path / "cmp"
    code, _, stderr = remnant("compare", runs["base"], runs["more_duds"], "--out", out)
    assert code == 0, stderr
    assert {p.name for p in out.iterdir()} == {"comparison.csv", "comparison.json", "completion.png",
                                               "difference.png", "p_contaminated_difference_2.tif"}
    with rasterio.open(runs["base"] / "p_contaminated.tif") as a, rasterio.open(runs["more_duds"] /
                                                                              "p_contaminated.tif") as b:
        expected = b.read(1).astype(float) - a.read(1).astype(float)
        transform = a.transform
    with rasterio.open(out / "p_contaminated_difference_2.tif") as diff:
        assert diff.transform == transform
        assert np.allclose(diff.read(1), expected, atol=1e-6)
    assert expected.max() > 0                                  # more duds: cells more likely contaminated
    code, _, stderr = remnant("compare", runs["base"], runs["more_duds"], "--out", out)
    assert code == 2 and "--overwrite" in stderr


@pytest.mark.slow
def test_runs_on_different_grids_are_one_line_exit_2_and_nothing_written(remnant, runs, tmp_path):
    out = tmp_path / "cmp"
    code, stdout, stderr = remnant("compare", runs["base"], runs["coarse"], "--out", out)
    assert code == 2 and "another grid" in stderr and "coarse" in stderr
    assert len(stderr.strip().splitlines()) == 1 and "Traceback" not in stderr
    assert not out.exists() and [p for p in tmp_path.iterdir()] == []
    assert remnant("compare", runs["base"], runs["coarse"])[0] == 0   # the figures alone need no common grid
