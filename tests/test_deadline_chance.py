"""P(deadline) by conditional Monte Carlo: each scored realization's chance of meeting the deadline
over its productivity factor is an unbiased, far less variable stand-in for whether it met it."""

from __future__ import annotations

import numpy as np
import pytest

from simulator.config.variants import load_scenario
from simulator.engine.ensemble import run_ensemble
from simulator.engine.prepare import prepare
from simulator.release.land_release import LandRelease, deadline_step, make_plan, score_plan
from simulator.results.release_tables import deadline_met
from simulator.results.uncertainty import chance_mean, proportion
from tests.conftest import TINY_TOML, write_tiny
from tests.test_land_release import CLEARANCE


def scored(tmp_path, *overrides, realizations=2000):
    """(setup, land release of ``realizations`` scored realizations) of the tiny scenario with clearance."""
    path = write_tiny(tmp_path, TINY_TOML.replace('[hazard]', CLEARANCE + '\n[hazard]\nsuspect_threshold = 0.05')
                      .replace('end = 2025-01-01', 'end = 2027-01-01'))
    setup = prepare(load_scenario(path, list(overrides)))
    plan = make_plan(setup, run_ensemble(setup.kernel, 60, threads=1).hazard_map())
    sums = score_plan(setup, plan, realizations, 0, 1)
    return setup, LandRelease.of(plan, sums, setup.scenario.clearance)


@pytest.mark.parametrize("deadline", ["2025-01-01", "2025-04-01", "2025-07-01"])
def test_the_chance_is_unbiased_for_the_outcome_at_the_drawn_factor(tmp_path, deadline):
    # the drawn factor is independent of everything the chance conditions on, so outcome - chance has mean 0
    setup, release = scored(tmp_path, f"clearance.deadline={deadline}")
    met = deadline_met(setup, release).astype(float)
    difference = met - release.deadline
    se = difference.std(ddof=1) / np.sqrt(len(difference))
    assert 0.02 < met.mean() < 0.98
    assert abs(difference.mean()) < 3 * se


def test_with_items_landing_during_clearance_the_outcome_is_kept(tmp_path):
    # a strike after clearance starts: the pace decides what units hold, so the outcome is not monotone in
    # it; realizations that get such items keep their 0/1 outcome at their own factor (exact)
    setup, release = scored(tmp_path, "clearance.deadline=2025-07-01", "strikes[2].date=2024-10-01",
                            realizations=1000)
    met = deadline_met(setup, release).astype(float)
    kept = (release.deadline == 0.0) | (release.deadline == 1.0)
    assert kept.mean() > 0.8
    assert np.array_equal(release.deadline[kept], met[kept])
    difference = met - release.deadline
    assert abs(difference.mean()) <= 3 * difference.std(ddof=1) / np.sqrt(len(difference)) + 1e-12


def test_the_chance_varies_far_less_than_the_outcome(tmp_path):
    setup, release = scored(tmp_path, "clearance.deadline=2025-04-01")
    met = deadline_met(setup, release)
    assert release.deadline.std() < 0.5 * met.std()
    assert ((release.deadline > 0) & (release.deadline < 1)).mean() > 0.5


def test_without_productivity_spread_the_chance_is_the_outcome(tmp_path):
    setup, release = scored(tmp_path, "clearance.deadline=2025-04-01", "clearance.productivity_spread=0",
                            realizations=300)
    met = deadline_met(setup, release)
    assert 0 < met.mean() < 1
    assert np.array_equal(release.deadline, met.astype(float))


def test_more_clearance_teams_never_lower_a_realizations_chance(tmp_path):
    (tmp_path / "one").mkdir(), (tmp_path / "two").mkdir()
    _, one = scored(tmp_path / "one", "clearance.deadline=2025-04-01", realizations=300)
    _, two = scored(tmp_path / "two", "clearance.deadline=2025-04-01", "clearance.teams.bac=2", realizations=300)
    assert np.array_equal(one.plan.order, two.plan.order)
    assert np.all(two.deadline >= one.deadline - 1e-4)
    assert two.deadline.mean() > one.deadline.mean()


def test_a_deadline_before_any_work_can_finish_has_no_chance(tmp_path):
    setup, release = scored(tmp_path, "clearance.deadline=2024-07-02", realizations=50)
    assert deadline_step(setup) >= 0
    assert np.all(release.deadline == 0.0)
    p, se, (lo, hi) = chance_mean(release.deadline)
    assert p == 0.0 and se == 0.0 and hi > 0.0  # 0/1 chances: Wilson's interval, not "exactly 0"


def test_chance_mean_of_outcomes_is_the_proportion_and_of_chances_their_mean():
    outcomes = np.array([1.0, 0.0, 0.0, 1.0, 1.0])
    assert chance_mean(outcomes) == proportion(outcomes == 1.0)
    chances = np.array([0.2, 0.4, 0.6, 0.8])
    p, se, (lo, hi) = chance_mean(chances)
    assert p == pytest.approx(0.5) and se == pytest.approx(chances.std(ddof=1) / 2)
    assert lo == pytest.approx(0.5 - 1.959964 * se) and hi == pytest.approx(0.5 + 1.959964 * se)
