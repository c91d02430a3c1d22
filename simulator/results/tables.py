"""Tables from an ensemble: area and remnants per land-use class over time, and the summary."""

from __future__ import annotations

import numpy as np
import pandas as pd

from simulator.engine.ensemble import Ensemble
from simulator.inputs.prepare import Setup
from simulator.inputs.timeaxis import epoch_of_step

PERCENTILES = (5, 50, 95)
M2_PER_HA = 10_000.0


def per_step(setup: Setup, per_epoch: np.ndarray) -> np.ndarray:
    """Cumulative per-epoch values [realization, epoch, zone] as values per reporting step."""
    cumulative = np.cumsum(per_epoch, axis=1)
    index = epoch_of_step(setup.epoch_steps, len(setup.steps))
    padded = np.concatenate([np.zeros_like(cumulative[:, :1]), cumulative], axis=1)
    return padded[:, index + 1]


def hazardous_cells_per_step(setup: Setup, ensemble: Ensemble) -> np.ndarray:
    """Cells per reporting step and class whose probability of a remnant reaches the threshold."""
    threshold = setup.scenario.hazard.threshold
    n_classes = len(setup.class_keys)
    per_epoch = np.stack([
        np.bincount(setup.kernel.cell_class[ensemble.p_after(e) >= threshold], minlength=n_classes)
        for e in range(len(ensemble.hits))
    ])
    index = epoch_of_step(setup.epoch_steps, len(setup.steps))
    return np.where(index[:, None] >= 0, per_epoch[np.maximum(index, 0)], 0)


def band(values: np.ndarray, axis: int = 0) -> dict[str, np.ndarray]:
    """P5, P50, P95 and mean across realizations (``axis``)."""
    p5, p50, p95 = np.percentile(values, PERCENTILES, axis=axis)
    return {"p5": p5, "p50": p50, "p95": p95, "mean": values.mean(axis=axis)}


def hazardous_area_table(setup: Setup, ensemble: Ensemble) -> pd.DataFrame:
    """One row per reporting step and class: contaminated and hazardous hectares, remnants."""
    ha_per_cell = setup.grid.cell_area_m2 / M2_PER_HA
    contaminated = band(per_step(setup, ensemble.zone_cells) * ha_per_cell)
    remnants = band(per_step(setup, ensemble.zone_items).astype(float))
    hazardous = hazardous_cells_per_step(setup, ensemble) * ha_per_cell
    rows = []
    for k, day in enumerate(setup.steps.dates):
        for c, key in enumerate(setup.class_keys):
            row = {"step": k, "date": day.isoformat(), "class": key}
            row |= {f"contaminated_ha_{name}": v[k, c] for name, v in contaminated.items()}
            row["hazardous_ha"] = hazardous[k, c]
            row |= {f"remnants_{name}": v[k, c] for name, v in remnants.items()}
            rows.append(row)
    return pd.DataFrame(rows)


def summary(setup: Setup, ensemble: Ensemble, table: pd.DataFrame | None = None) -> dict:
    """The figures a planner reads first: items dropped, duds, and area by class at the end.

    ``table`` is ``hazardous_area_table(setup, ensemble)`` when the caller has it already.
    """
    n = ensemble.realizations
    dropped, remnants, outside = (ensemble.totals[:, j] for j in range(3))
    ha_per_cell = setup.grid.cell_area_m2 / M2_PER_HA
    contaminated_total = band(per_step(setup, ensemble.zone_cells)[:, -1, :].sum(axis=1) * ha_per_cell)
    table = hazardous_area_table(setup, ensemble) if table is None else table
    final = table[table["step"] == table["step"].max()]
    classes = setup.scenario.land_use.classes
    by_class = [
        {
            "class": row["class"],
            "name": classes[row["class"]].name,
            "remnants_mean": round(float(row["remnants_mean"]), 3),
            "contaminated_ha_p5": round(float(row["contaminated_ha_p5"]), 4),
            "contaminated_ha_p50": round(float(row["contaminated_ha_p50"]), 4),
            "contaminated_ha_p95": round(float(row["contaminated_ha_p95"]), 4),
            "hazardous_ha": round(float(row["hazardous_ha"]), 4),
        }
        for _, row in final.iterrows()
    ]
    return {
        "scenario": setup.scenario.name,
        "realizations": n,
        "strikes": len(setup.strikes),
        "strikes_off_grid": int((~setup.on_grid).sum()),
        "items_dropped": int(dropped[0]) if n else 0,
        "expected_duds": round(float(remnants.mean()), 3),
        "expected_duds_se": round(float(remnants.std(ddof=1) / np.sqrt(n)) if n > 1 else 0.0, 3),
        "duds_outside_grid_mean": round(float(outside.mean()), 3),
        **{f"contaminated_ha_{k}": round(float(v), 4) for k, v in contaminated_total.items() if k != "mean"},
        "hazardous_ha": round(float(final["hazardous_ha"].sum()), 4),
        "by_class": by_class,
    }
