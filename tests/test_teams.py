"""Teams with several roles: the schema, capacity per crew, and the kernel's scheduling against a
naive reference on plans built so the answer is known."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import numpy as np
import pytest
from simulator.kernels import release as K

from simulator.config.clearance import Clearance, Teams
from simulator.config.variants import load_scenario
from simulator.engine.ensemble import run_ensemble
from simulator.engine.layout import SCORED, root_key
from simulator.errors import InputError
from simulator.inputs.timeaxis import TimeSteps
from simulator.pipeline import simulate
from simulator.release.land_release import NO_DISC, capacity_per_step, run_land_release
from simulator.results.tables import per_step
from tests.conftest import TINY_TOML, write_tiny

ALL_ROLES = ("nts", "ts", "bac")
COLUMN = {("nts",): 0, ("ts",): 1, ("bac",): 2, ("nts", "ts"): 3, ("nts", "bac"): 4, ("ts", "bac"): 5,
          ("nts", "ts", "bac"): 6}
"""The crew columns of the capacity array, written out by hand."""


def naive_release(units, crews, n_steps, ts_fraction):
    """Remaining hazardous area (m2) after each step, for plans whose outcomes are certain.

    ``units``: dicts with step, sha, cha (m2), ts_first, rate (team-days per m2 by method name)
    and whether NTS sees evidence (``evidence``) and TS finds an item (``hit``); ``crews``: a
    list of (roles, team-days per step), spent in that order. Written without the kernel's code.
    """
    state = [{"stage": None, "work": 0.0, "area": 0.0} for _ in units]
    remaining = []
    for s in range(n_steps):
        for unit, st in zip(units, state):
            if st["stage"] is None and unit["step"] <= s:
                st.update(stage="nts", work=(unit["sha"] + unit["cha"]) * unit["rate"]["nts"])
        for roles, team_days in crews:
            budget = team_days[s]
            for unit, st in zip(units, state):
                while budget > 0 and st["stage"] in roles:
                    use = min(budget, st["work"])
                    budget -= use
                    st["work"] -= use
                    if st["work"] > 1e-9 * use:
                        break
                    _next_stage(unit, st, ts_fraction)
        remaining.append(sum(st["area"] if st["stage"] in ("ts", "bac") else unit["sha"] + unit["cha"]
                             for unit, st in zip(units, state) if st["stage"] in ALL_ROLES))
    return np.array(remaining)


def _next_stage(unit, st, ts_fraction):
    if st["stage"] == "nts":
        st["area"] = unit["cha"] + (unit["sha"] if unit["evidence"] else 0.0)
        if st["area"] == 0:
            st["stage"] = "done"
        elif unit["ts_first"] and not unit["evidence"]:
            st.update(stage="ts", work=ts_fraction * st["area"] * unit["rate"]["ts"])
        else:
            st.update(stage="bac", work=st["area"] * unit["rate"]["bac"])
    elif st["stage"] == "ts" and unit["hit"]:
        st.update(stage="bac", work=(1 - ts_fraction) * st["area"] * unit["rate"]["bac"])
    else:
        st["stage"] = "done"


def kernel_release(units, crews, n_steps, ts_fraction):
    """The kernel's remaining hazardous area per step on the same plan (one realization, class 0)."""
    n = len(units)
    items = np.zeros((1, 1, 2 * n + 1), np.int64)
    for u, unit in enumerate(units):
        items[0, 0, 2 * u + 1] = 3 if unit["evidence"] or unit["hit"] else 0  # items only in confirmed land
        items[0, 0, 2 * u] = 2 if unit["evidence"] else 0
    capacity = np.zeros((n_steps, len(K.CREW_MASKS)))
    for roles, team_days in crews:
        capacity[:, COLUMN[tuple(r for r in ALL_ROLES if r in roles)]] += team_days
    out = np.zeros((1, n_steps, 1, K.N_METRICS))
    K.release_ensemble(
        items, np.zeros(n, np.int64), np.array([u["step"] for u in units], np.int64),
        np.array([u["sha"] for u in units], float), np.array([u["cha"] for u in units], float),
        np.array([u["ts_first"] for u in units]), np.array([[u["rate"][m] for m in ALL_ROLES] for u in units]),
        capacity, 0.0, ts_fraction, 1.0, 1.0, np.uint64(1), np.uint64(2), 0, np.zeros(1, np.int64), out,
    )
    return out[0, :, 0, K.REMAINING_M2]


def completion(remaining: np.ndarray) -> int:
    """First step after which nothing remains (the horizon's length if never)."""
    done = np.flatnonzero(remaining <= 1e-6)
    return int(done[0]) if len(done) else len(remaining)


ONE_UNIT = [{"step": 0, "sha": 500.0, "cha": 500.0, "ts_first": False, "evidence": False, "hit": False,
             "rate": {"nts": 0.01, "ts": 0.1, "bac": 0.1}}]
"""10 team-days of NTS (1,000 m2 at 100 m2 a day), then 50 of BAC (the confirmed 500 m2 at 10)."""


@pytest.mark.parametrize("release", [naive_release, kernel_release])
def test_one_team_doing_both_roles_finishes_in_half_the_time(release):
    steps = 16
    split = release(ONE_UNIT, [(("nts",), np.full(steps, 5.0)), (("bac",), np.full(steps, 5.0))], steps, 0.2)
    both = release(ONE_UNIT, [(("nts", "bac"), np.full(steps, 10.0))], steps, 0.2)
    # split: NTS ends in step 1 (5 + 5), BAC's 5 a step then takes steps 1..10 for its 50 team-days;
    # one crew of 10 a step: NTS in step 0, BAC's 50 in steps 1..5
    assert completion(split) == 10
    assert completion(both) == 5


def random_plan(rng, n_units):
    return [{"step": int(rng.integers(0, 4)), "sha": float(rng.uniform(0, 5e3)), "cha": float(rng.uniform(0, 5e3)),
             "ts_first": bool(rng.random() < 0.5), "evidence": bool(rng.random() < 0.3),
             "hit": bool(rng.random() < 0.3),
             "rate": {m: 1 / float(rng.uniform(200, 5e4)) for m in ALL_ROLES}} for _ in range(n_units)]


@pytest.mark.parametrize("seed", range(12))
def test_kernel_matches_the_naive_reference_with_mixed_crews(seed):
    rng = np.random.default_rng(seed)
    units, steps = random_plan(rng, int(rng.integers(1, 9))), 30
    sets = [("nts",), ("ts",), ("bac",), ("nts", "ts"), ("nts", "bac"), ("ts", "bac"), ALL_ROLES]
    crews = [(roles, np.where(rng.random(steps) < 0.8, rng.uniform(0, 3, steps), 0.0))
             for roles in sets if rng.random() < 0.6]
    expected = naive_release(units, crews, steps, 1.0)  # TS searches all: a hit is certain if items are there
    assert np.allclose(kernel_release(units, crews, steps, 1.0), expected, rtol=1e-9, atol=1e-6)


@pytest.mark.parametrize("seed", range(12))
def test_pooled_teams_finish_no_later_than_the_same_capacity_split_by_role(seed):
    rng = np.random.default_rng(100 + seed)
    units, steps = random_plan(rng, int(rng.integers(1, 9))), 60
    per_role = rng.uniform(0.1, 2.0, 3)
    split = [((m,), np.full(steps, c)) for m, c in zip(ALL_ROLES, per_role)]
    pooled = [(ALL_ROLES, np.full(steps, per_role.sum()))]
    assert completion(kernel_release(units, pooled, steps, 1.0)) <= completion(kernel_release(units, split, steps, 1.0))


def test_capacity_puts_each_crew_in_its_column():
    clearance = Clearance(
        start=date(2024, 1, 1), working_days_per_year=365.25,
        teams=Teams(nts=1, multi_role=[{"roles": ["bac", "nts"], "count": 2}, {"roles": ["nts", "bac"], "count": 1}]),
        team_changes=[{"date": date(2024, 7, 1), "teams": {"multi_role": [{"roles": ALL_ROLES, "count": 3}]}}],
    )
    steps = TimeSteps((date(2024, 1, 1), date(2024, 7, 1), date(2025, 1, 1)))
    capacity = capacity_per_step(clearance, steps)
    assert capacity.shape == (3, 7)
    # Jan 2 .. Jun 30 (181 days) with the first teams, Jul 1 .. Jan 1 (185 days) with the change
    assert capacity[1, COLUMN[("nts",)]] == pytest.approx(181)
    assert capacity[1, COLUMN[("nts", "bac")]] == pytest.approx(3 * 181)  # the order of roles does not matter
    assert capacity[1, COLUMN[ALL_ROLES]] == pytest.approx(3 * 1)
    assert capacity[2, COLUMN[ALL_ROLES]] == pytest.approx(3 * 184)
    assert capacity[2].sum() == pytest.approx(3 * 184)


def test_a_repeated_role_is_one_line_naming_the_field(tmp_path):
    path = write_tiny(tmp_path, TINY_TOML)
    with pytest.raises(InputError, match=r"clearance\.teams\.multi_role\[0\]\.roles.*repeats a role; name each role once"):
        load_scenario(path, ['clearance={start=2024-07-01, teams={multi_role=[{roles=["nts", "nts"], count=1}]}}'])
    with pytest.raises(InputError, match=r"roles\[1\]"):
        load_scenario(path, ['clearance={start=2024-07-01, teams={multi_role=[{roles=["nts", "mine"], count=1}]}}'])


def gaps(**clearance) -> list[str]:
    return [problem for problem, _ in Clearance(start=date(2024, 1, 1), **clearance).plan_gaps(date(2030, 1, 1))]


def test_plans_that_can_never_finish_are_named():
    assert gaps(teams=Teams(nts=1, ts=1, bac=1)) == []
    assert gaps(teams=Teams(multi_role=[{"roles": ALL_ROLES, "count": 1}])) == []
    no_survey = gaps(teams=Teams(bac=3))
    assert len(no_survey) == 2 and "non-technical survey (nts)" in no_survey[0] and "technical survey (ts)" in no_survey[1]
    assert gaps(teams=Teams(nts=1, bac=1), ts_sample_fraction=0.0) == []  # no unit waits for TS
    assert "battle area clearance (bac)" in gaps(teams=Teams(nts=1, ts=1))[0]
    # survey from a later change counts; a last change to no teams at all does not finish
    assert gaps(teams=Teams(bac=1), team_changes=[{"date": date(2025, 1, 1), "teams": {"nts": 1, "ts": 1, "bac": 1}}]) == []
    stop = gaps(teams=Teams(nts=1, ts=1, bac=1), team_changes=[{"date": date(2026, 1, 1), "teams": {}}])
    assert stop == ["from 2026-01-01 no team works (team_changes), so land not released by then stays hazardous"]


CLEARANCE = """
[clearance]
start = 2024-07-01
work_unit_m = 100
teams = { nts = 1, ts = 1, bac = 1 }
"""


def test_a_run_with_multi_role_teams_conserves_items_and_releases_land(tmp_path):
    path = write_tiny(tmp_path, TINY_TOML.replace("[hazard]", CLEARANCE + "\n[hazard]\nsuspect_threshold = 0.05").replace(
        "end = 2025-01-01", "end = 2027-01-01"))
    loaded = load_scenario(path, ["simulation.realizations=12",
                                  'clearance.teams={multi_role=[{roles=["nts", "ts", "bac"], count=3}]}'])
    result = simulate(loaded, threads=1)
    release = result.land_release
    state = run_land_release(result.setup, release.plan, release.realizations, threads=1).sum(axis=2)
    accounted = sum(state[:, :, m] for m in (K.FOUND, K.RESIDUAL, K.IN_HAZARDOUS, K.UNSUSPECTED))
    scored = run_ensemble(replace(result.setup.kernel, key=root_key(result.setup.scenario.simulation.seed, SCORED),
                                  disc=NO_DISC), release.realizations, threads=1)
    assert np.array_equal(accounted, per_step(result.setup, scored.zone_items).sum(axis=2))
    released = state[:, -1, K.CANCELLED_M2] + state[:, -1, K.REDUCED_M2] + state[:, -1, K.CLEARED_M2]
    assert np.all(released > 0) and np.all(state[:, -1, K.REMAINING_M2] <= state[:, 0, K.REMAINING_M2])
