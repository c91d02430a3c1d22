"""Tables from an ensemble: area and remnants per land-use class over time, and the summary.

Vocabulary (docs/model.md): land is *contaminated* in a realization within the reference
distance of a remnant; over the realizations, land whose probability of being contaminated
reaches ``hazard.suspect_threshold`` is suspected hazardous area (SHA, ``suspected_ha``), and
land where it reaches ``hazard.threshold`` is confirmed hazardous area (CHA, ``hazardous_ha``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from simulator.config.scenario import OUTSIDE
from simulator.engine.ensemble import Ensemble, cumulative_rows
from simulator.engine.prepare import Setup
from simulator.inputs.timeaxis import epoch_of_step
from simulator.results.precision import area_errors
from simulator.results.uncertainty import mean_se, quantile_ci, reaches

PERCENTILES = (5, 50, 95)
M2_PER_HA = 10_000.0
TOTAL = "all"
"""The ``class`` of the rows that total every class (the study area); the ``total`` column marks them.
With ``land_use.outside``, rows of class ``OUTSIDE`` count the remnants outside the study area."""


def per_step(setup: Setup, per_epoch: np.ndarray) -> np.ndarray:
    """Cumulative per-epoch values [realization, epoch, zone] as values per reporting step."""
    cumulative = np.cumsum(per_epoch, axis=1)
    index = epoch_of_step(setup.epoch_steps, len(setup.steps))
    padded = np.concatenate([np.zeros_like(cumulative[:, :1]), cumulative], axis=1)
    return padded[:, index + 1]


def cells_per_step(setup: Setup, cumulative_hits: np.ndarray, n: int, threshold: float) -> np.ndarray:
    """Cells per reporting step and class whose probability of contamination (``cumulative_hits``
    [epoch, cell] of ``n`` realizations) reaches ``threshold``; none outside the study area."""
    n_classes = len(setup.class_keys)
    inside = setup.inside.ravel()
    per_epoch = np.stack([
        np.bincount(setup.kernel.cell_class[reaches(hits, n, threshold) & inside], minlength=n_classes)
        for hits in cumulative_hits
    ]).reshape(-1, n_classes)
    index = epoch_of_step(setup.epoch_steps, len(setup.steps))
    return np.where(index[:, None] >= 0, per_epoch[np.maximum(index, 0)], 0)


def band(values: np.ndarray, axis: int = 0) -> dict[str, np.ndarray]:
    """P5, P50, P95 and mean across realizations (``axis``)."""
    p5, p50, p95 = np.percentile(values, PERCENTILES, axis=axis)
    return {"p5": p5, "p50": p50, "p95": p95, "mean": values.mean(axis=axis)}


def hazardous_area_table(setup: Setup, ensemble: Ensemble) -> pd.DataFrame:
    """One row per reporting step and class, and a ``total`` row per step: contaminated hectares
    (bands over realizations), SHA and CHA hectares, remnants (bands); with ``land_use.outside``, a
    row per step of class ``OUTSIDE``: the remnants outside the study area (its areas 0)."""
    ha_per_cell = setup.grid.cell_area_m2 / M2_PER_HA
    hazard = setup.scenario.hazard
    n_classes = len(setup.class_keys)
    contaminated = per_step(setup, ensemble.zone_cells)[:, :, :n_classes] * ha_per_cell
    all_remnants = per_step(setup, ensemble.zone_items).astype(float)
    remnants = all_remnants[:, :, :n_classes]
    n = ensemble.realizations
    suspected = cells_per_step(setup, cumulative_rows(ensemble.hits), n, hazard.suspect_threshold) * ha_per_cell
    hazardous = cells_per_step(setup, cumulative_rows(ensemble.hits), n, hazard.threshold) * ha_per_cell
    blocks = [(key, False, contaminated[:, :, c], suspected[:, c], hazardous[:, c], remnants[:, :, c])
              for c, key in enumerate(setup.class_keys)]
    blocks.append((TOTAL, True, contaminated.sum(axis=2), suspected.sum(axis=1), hazardous.sum(axis=1),
                   remnants.sum(axis=2)))
    if setup.scenario.land_use.outside:  # remnants only: no area is assessed outside the study area
        nothing = np.zeros(len(setup.steps))
        blocks.append((OUTSIDE, False, np.zeros_like(all_remnants[:, :, n_classes]), nothing, nothing,
                       all_remnants[:, :, n_classes]))
    rows = []
    for key, total, con, sha, cha, items in blocks:
        con_band, item_band = band(con), band(items)
        for k, day in enumerate(setup.steps.dates):
            row = {"step": k, "date": day.isoformat(), "class": key, "total": total}
            row |= {f"contaminated_ha_{name}": v[k] for name, v in con_band.items()}
            row["suspected_ha"] = sha[k]
            row["hazardous_ha"] = cha[k]
            row |= {f"remnants_{name}": v[k] for name, v in item_band.items()}
            rows.append(row)
    return pd.DataFrame(rows)


def rounded(value: float, digits: int = 4) -> float | None:
    """``value`` rounded for JSON; None where not finite."""
    return round(float(value), digits) if np.isfinite(value) else None


def summary(setup: Setup, ensemble: Ensemble, table: pd.DataFrame) -> dict:
    """The figures a planner reads first, each with its Monte Carlo error: items dropped, duds,
    contaminated area, SHA and CHA, by class at the end; ``table`` is ``hazardous_area_table``."""
    n = ensemble.realizations
    dropped, remnants, outside = (ensemble.totals[:, j] for j in range(3))
    ha_per_cell = setup.grid.cell_area_m2 / M2_PER_HA
    hazard = setup.scenario.hazard
    n_classes = len(setup.class_keys)
    contaminated = per_step(setup, ensemble.zone_cells)[:, -1, :n_classes].sum(axis=1) * ha_per_cell
    items = per_step(setup, ensemble.zone_items)[:, -1]
    in_area, beyond = items[:, :n_classes].sum(axis=1), items[:, n_classes:].sum(axis=1)  # on the grid
    hits = ensemble.hits.sum(axis=0)
    areas = area_errors(setup, ensemble)
    (sha, sha_se), (cha, cha_se) = ((a * ha_per_cell, se * ha_per_cell) for a, se in
                                    (areas["suspected"], areas["hazardous"]))
    mean_count = ensemble.mean_count()
    inside = setup.inside.ravel()
    on_grid = mean_count[inside].sum()  # the study area's
    share = {name: float(mean_count[reaches(hits, n, t) & inside].sum() / on_grid) if on_grid > 0 else 0.0
             for name, t in (("sha", hazard.suspect_threshold), ("cha", hazard.threshold))}
    duds, duds_se = mean_se(remnants)
    con_mean, con_se = mean_se(contaminated)
    p50, p50_ci = quantile_ci(contaminated, 0.5)
    p5, p95 = np.percentile(contaminated, (5, 95))
    final = table[(table["step"] == table["step"].max()) & table["class"].isin(setup.class_keys)]
    classes = setup.scenario.land_use.classes
    by_class = [
        {
            "class": row["class"],
            "name": classes[row["class"]].name,
            "remnants_mean": round(float(row["remnants_mean"]), 3),
            "contaminated_ha_p5": round(float(row["contaminated_ha_p5"]), 4),
            "contaminated_ha_p50": round(float(row["contaminated_ha_p50"]), 4),
            "contaminated_ha_p95": round(float(row["contaminated_ha_p95"]), 4),
            "suspected_ha": round(float(row["suspected_ha"]), 4),
            "hazardous_ha": round(float(row["hazardous_ha"]), 4),
        }
        for _, row in final.iterrows()
    ]
    return {
        "scenario": setup.scenario.name,
        "realizations": n,
        "strikes": len(setup.strikes),
        "strikes_off_grid": int((~setup.on_grid).sum()),
        "reference_distance_m": hazard.reference_distance_m,
        "items_dropped": int(dropped[0]) if n else 0,
        "expected_duds": round(duds, 3),
        "expected_duds_se": round(duds_se, 3),
        "duds_outside_grid_mean": round(float(outside.mean()), 3),
        **({"duds_in_study_area_mean": round(float(in_area.mean()), 3),
            "duds_outside_study_area_mean": round(float(beyond.mean()), 3)}
           if setup.scenario.land_use.outside else {}),
        "contaminated_ha_mean": round(con_mean, 4),
        "contaminated_ha_mean_se": round(con_se, 4),
        "contaminated_ha_p5": round(float(p5), 4),
        "contaminated_ha_p50": round(p50, 4),
        "contaminated_ha_p50_ci": [rounded(v) for v in p50_ci],
        "contaminated_ha_p95": round(float(p95), 4),
        "suspected_ha": round(sha, 4),
        "suspected_ha_se": rounded(sha_se),
        "hazardous_ha": round(cha, 4),
        "hazardous_ha_se": rounded(cha_se),
        "share_of_items_in_sha": round(share["sha"], 4),
        "share_of_items_in_cha": round(share["cha"], 4),
        "by_class": by_class,
    }
