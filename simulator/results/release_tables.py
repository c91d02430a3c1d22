"""Tables of land release: area and items per step and class with bands, completion dates."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from simulator.engine.prepare import Setup
from simulator.inputs.timeaxis import DAYS_PER_YEAR
from simulator.kernels import release as K
from simulator.release.bands import ExactBands
from simulator.release.land_release import LandRelease, band_units, deadline_step, with_total
from simulator.results.precision import deadline_error
from simulator.results.tables import M2_PER_HA, TOTAL, rounded
from simulator.results.uncertainty import chance_mean, jackknife_se, mean_se, proportion, quantile_ci

METRICS = {
    "remaining_ha": (K.REMAINING_M2, 1 / M2_PER_HA),
    "cancelled_ha": (K.CANCELLED_M2, 1 / M2_PER_HA),
    "reduced_ha": (K.REDUCED_M2, 1 / M2_PER_HA),
    "cleared_ha": (K.CLEARED_M2, 1 / M2_PER_HA),
    "items_found": (K.FOUND, 1.0),
    "items_in_hazardous_land": (K.IN_HAZARDOUS, 1.0),
    "items_residual_released": (K.RESIDUAL, 1.0),
    "items_unsuspected_land": (K.UNSUSPECTED, 1.0),
}
"""Column name -> (metric index in the kernel's state, scale)."""


def land_release_table(setup: Setup, release: LandRelease) -> pd.DataFrame:
    """Per step and class, and a ``total`` row per step: each metric's P5, P50, P95 and mean across
    realizations (exact, from the release's histograms; ``band`` gives the same from a full state)."""
    bands = release.bands
    if bands is None:
        bands = ExactBands((len(setup.steps), len(setup.class_keys) + 1, K.N_METRICS), band_units(setup))
        bands.add(with_total(release.state))
    scale = np.ones(K.N_METRICS)
    for index, factor in METRICS.values():
        scale[index] = factor
    stats = bands.bands(scale)
    blocks = [(key, False) for key in setup.class_keys] + [(TOTAL, True)]
    rows = []
    for c, (key, total) in enumerate(blocks):
        for k, day in enumerate(setup.steps.dates):
            row = {"step": k, "date": day.isoformat(), "class": key, "total": total}
            for name, (index, _) in METRICS.items():
                row |= {f"{name}_{q}": stats[q][k, c, index] for q in ("p5", "p50", "p95", "mean")}
            rows.append(row)
    return pd.DataFrame(rows)


def completion_years(setup: Setup, release: LandRelease) -> np.ndarray:
    """Years from clearance start until no hazardous land remains, per realization (inf: beyond the horizon)."""
    return years_to(setup, release.completion_step())


def years_to(setup: Setup, step: np.ndarray) -> np.ndarray:
    """Years from clearance start to reporting steps ``step`` (-1: inf, beyond the horizon)."""
    start = setup.scenario.clearance.start
    days = np.array([(d - start).days for d in setup.steps.dates], float)
    return np.where(step >= 0, np.maximum(days[np.maximum(step, 0)], 0.0) / DAYS_PER_YEAR, np.inf)


def completion_table(setup: Setup, release: LandRelease) -> pd.DataFrame:
    """Per reporting date, the share of realizations in which all hazardous land is released by then."""
    years = completion_years(setup, release)
    start = setup.scenario.clearance.start
    rows = []
    for k, day in enumerate(setup.steps.dates):
        since = (day - start).days / DAYS_PER_YEAR
        rows.append({
            "step": k, "date": day.isoformat(), "years_since_start": round(since, 4),
            "p_all_released": float(np.mean(years <= max(since, 0.0) + 1e-9)) if since >= 0 else 0.0,
        })
    return pd.DataFrame(rows)


def deadline_met(setup: Setup, release: LandRelease) -> np.ndarray | None:
    """Per scored realization, whether all SHA is released by the deadline (None: no deadline)."""
    step = deadline_step(setup)
    if step is None:
        return None
    completion = release.completion_step()
    return (completion >= 0) & (completion <= step)


def deadline_chances(setup: Setup, release: LandRelease) -> np.ndarray | None:
    """Per scored realization, its chance of releasing all SHA by the deadline over its productivity
    factor (whether it did, at its drawn factor, where the chances were not computed; None: no deadline)."""
    met = deadline_met(setup, release)
    if met is None or release.deadline is None:
        return None if met is None else met.astype(float)
    return release.deadline


def release_summary(setup: Setup, release: LandRelease) -> dict:
    """Years to completion (P50, P90, with intervals), probability of meeting the deadline, items
    found, residual and unsuspected, cost: each with its Monte Carlo error over the scored realizations."""
    clearance = setup.scenario.clearance
    years = completion_years(setup, release)
    final = release.final.sum(axis=1)

    def quantile(q: float) -> dict:
        value, (lo, hi) = quantile_ci(years, q)
        return {f"years_to_completion_p{round(q * 100)}": rounded(value, 3),
                f"years_to_completion_p{round(q * 100)}_ci": [rounded(lo, 3), rounded(hi, 3)]}

    def mean(name: str, values: np.ndarray) -> dict:
        value, se = mean_se(values)
        return {f"{name}_mean": round(value, 2), f"{name}_mean_se": round(se, 2)}

    deadline = None
    met = deadline_chances(setup, release)
    if met is not None:
        p, se, (lo, hi) = chance_mean(met)
        map_se = jackknife_se(release.map_replicates) if len(release.map_replicates) > 1 else None
        total = math.hypot(se, map_se or 0.0)
        deadline = {"date": clearance.deadline.isoformat(), "p_released_by_deadline": round(p, 4),
                    "p_released_by_deadline_se": round(total, 4),
                    "p_released_by_deadline_se_scored": round(se, 4),
                    "p_released_by_deadline_se_map": None if map_se is None else round(map_se, 4),
                    "p_released_by_deadline_ci_scored": [round(lo, 4), round(hi, 4)],
                    "p_deadline_error": round(math.hypot(deadline_error(met), map_se or 0.0), 5)}
    within, within_se, _ = proportion(np.isfinite(years))
    return {
        "clearance_start": clearance.start.isoformat(),
        "policy": clearance.policy,
        "work_units": len(release.plan.units),
        "scored_realizations": len(years),
        **quantile(0.5),
        **quantile(0.9),
        "p_completed_within_horizon": round(within, 4),
        "p_completed_within_horizon_se": round(within_se, 4),
        "deadline": deadline,
        **mean("items_found", final[:, K.FOUND]),
        **mean("residual_items", final[:, K.RESIDUAL]),
        **mean("items_in_hazardous_land", final[:, K.IN_HAZARDOUS]),
        **mean("items_in_unsuspected_land", final[:, K.UNSUSPECTED]),
        "remaining_ha_p50": round(float(np.median(final[:, K.REMAINING_M2])) / M2_PER_HA, 3),
        **mean("cost", release.cost),
        "cost_p90": round(float(np.quantile(release.cost, 0.9)), 2),
    }
