"""Tables of land release: area and items per step and class with bands, completion dates."""

from __future__ import annotations

import numpy as np
import pandas as pd

from simulator.kernels import release as K
from simulator.release.land_release import LandRelease
from simulator.inputs.prepare import Setup
from simulator.results.tables import M2_PER_HA, band

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
    """Per step and class (and ``all``): each metric's P5, P50, P95 and mean across realizations."""
    state = release.state
    blocks = [(key, state[:, :, c, :]) for c, key in enumerate(setup.class_keys)]
    blocks.append(("all", state.sum(axis=2)))
    rows = []
    for key, values in blocks:
        bands = {name: band(values[:, :, index] * scale) for name, (index, scale) in METRICS.items()}
        for k, day in enumerate(setup.steps.dates):
            row = {"step": k, "date": day.isoformat(), "class": key}
            for name, stats in bands.items():
                row |= {f"{name}_{q}": stats[q][k] for q in ("p5", "p50", "p95", "mean")}
            rows.append(row)
    return pd.DataFrame(rows)


def completion_years(setup: Setup, release: LandRelease) -> np.ndarray:
    """Years from clearance start until no hazardous land remains, per realization (inf: beyond the horizon)."""
    start = setup.scenario.clearance.start
    step = release.completion_step()
    days = np.array([(d - start).days for d in setup.steps.dates], float)
    return np.where(step >= 0, np.maximum(days[np.maximum(step, 0)], 0.0) / 365.25, np.inf)


def completion_table(setup: Setup, release: LandRelease) -> pd.DataFrame:
    """Per reporting date, the share of realizations in which all hazardous land is released by then."""
    years = completion_years(setup, release)
    start = setup.scenario.clearance.start
    rows = []
    for k, day in enumerate(setup.steps.dates):
        since = (day - start).days / 365.25
        rows.append({
            "step": k, "date": day.isoformat(), "years_since_start": round(since, 4),
            "p_all_released": float(np.mean(years <= max(since, 0.0) + 1e-9)) if since >= 0 else 0.0,
        })
    return pd.DataFrame(rows)


def release_summary(setup: Setup, release: LandRelease) -> dict:
    """Years to completion (P50, P90), probability of meeting the deadline, residual items, cost."""
    clearance = setup.scenario.clearance
    years = completion_years(setup, release)
    final = release.state[:, -1].sum(axis=1)

    def quantile(q: float) -> float | None:
        value = float(np.quantile(years, q, method="inverted_cdf"))
        return round(value, 3) if np.isfinite(value) else None

    deadline = None
    if clearance.deadline is not None:
        limit = (clearance.deadline - clearance.start).days / 365.25
        deadline = {"date": clearance.deadline.isoformat(), "p_released_by_deadline": round(float(np.mean(years <= limit)), 4)}
    return {
        "clearance_start": clearance.start.isoformat(),
        "policy": clearance.policy,
        "work_units": len(release.plan.units),
        "years_to_completion_p50": quantile(0.5),
        "years_to_completion_p90": quantile(0.9),
        "p_completed_within_horizon": round(float(np.mean(np.isfinite(years))), 4),
        "deadline": deadline,
        "items_found_mean": round(float(final[:, K.FOUND].mean()), 2),
        "residual_items_mean": round(float(final[:, K.RESIDUAL].mean()), 2),
        "items_in_hazardous_land_mean": round(float(final[:, K.IN_HAZARDOUS].mean()), 2),
        "items_in_unsuspected_land_mean": round(float(final[:, K.UNSUSPECTED].mean()), 2),
        "remaining_ha_p50": round(float(np.median(final[:, K.REMAINING_M2])) / M2_PER_HA, 3),
        "cost_mean": round(float(release.cost.mean()), 2),
        "cost_p90": round(float(np.quantile(release.cost, 0.9)), 2),
    }
