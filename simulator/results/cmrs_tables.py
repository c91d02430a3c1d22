"""Tables and headline figures of cluster munition remnant survey (CMRS), with Monte Carlo errors."""

from __future__ import annotations

import numpy as np
import pandas as pd

from simulator.kernels import cmrs as K
from simulator.release.cmrs import CmrsSurvey
from simulator.results.tables import M2_PER_HA, rounded
from simulator.results.uncertainty import mean_se

COLUMNS = {
    "items_on_grid": (K.ITEMS, 1.0),
    "evidence_points": (K.EVIDENCE_POINTS, 1.0),
    "evidence_boxes": (K.EVIDENCE_BOXES, 1.0),
    "boxes_searched": (K.SEARCHED_BOXES, 1.0),
    "searched_ha": (K.SEARCHED_M2, 1 / M2_PER_HA),
    "items_found_by_search": (K.FOUND, 1.0),
    "chas": (K.CHAS, 1.0),
    "cha_ha": (K.CHA_M2, 1 / M2_PER_HA),
    "items_in_cha": (K.ITEMS_IN_CHA, 1.0),
    "items_missed": (K.MISSED, 1.0),
    "cha_empty_boxes_ha": (K.EMPTY_BOX_M2, 1 / M2_PER_HA),
    "cha_empty_cells_ha": (K.EMPTY_CELL_M2, 1 / M2_PER_HA),
}
"""Column of cmrs.csv -> (metric index in ``kernels.cmrs``, scale)."""

HEADLINE = ("chas", "cha_ha", "items_missed", "items_in_cha", "evidence_points", "searched_ha")
"""Per-realization figures the summary gives as a mean with its standard error."""


def cmrs_table(survey: CmrsSurvey) -> pd.DataFrame:
    """One row per scored realization: evidence, search and CHA figures (cmrs.csv)."""
    m = survey.metrics
    table = pd.DataFrame({"realization": np.arange(len(m))})
    for name, (index, scale) in COLUMNS.items():
        table[name] = m[:, index] * scale
    return table


def ratio_se(y: np.ndarray, x: np.ndarray) -> tuple[float | None, float | None]:
    """Ratio of totals ``sum y / sum x`` over realizations and its standard error (delta method);
    None where ``x`` sums to 0."""
    n, total = len(x), float(x.sum())
    if total <= 0.0:
        return None, None
    r = float(y.sum()) / total
    if n < 2:
        return r, 0.0
    residual = y - r * x
    return r, float(np.sqrt(residual.var(ddof=1) / n) / x.mean())


def cmrs_summary(survey: CmrsSurvey) -> dict:
    """Settings, per-realization means with standard errors, and the shares of CHA land that held
    no item (per box and per grid cell, ratios of totals over realizations) with their errors."""
    table = cmrs_table(survey)
    s = survey.settings
    figures = {
        "box_m": survey.box_m, "fade_out_boxes": s.fade_out_boxes, "method": s.method,
        "scored_realizations": len(table),
    }
    for name in HEADLINE:
        value, se = mean_se(table[name].to_numpy())
        figures[f"{name}_mean"], figures[f"{name}_mean_se"] = rounded(value, 3), rounded(se, 3)
    cha = table["cha_ha"].to_numpy()
    for unit in ("boxes", "cells"):
        share, se = ratio_se(table[f"cha_empty_{unit}_ha"].to_numpy(), cha)
        figures[f"share_cha_empty_{unit}"] = None if share is None else rounded(share, 4)
        figures[f"share_cha_empty_{unit}_se"] = None if se is None else rounded(se, 4)
    items = table["items_on_grid"].to_numpy()
    share, se = ratio_se(table["items_missed"].to_numpy(), items)
    figures["share_items_missed"] = None if share is None else rounded(share, 4)
    figures["share_items_missed_se"] = None if se is None else rounded(se, 4)
    return figures
