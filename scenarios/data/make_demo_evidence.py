"""Generate the evidence files of ``scenarios/demo-evidence.toml`` from one hidden "true" realization.

The truth is realization 0 of the demo district drawn under a seed the scenario does not use
(``HIDDEN_SEED``), so it is one more draw of the same prior, unknown to the run. From it:

* ``finds.csv``: non-technical survey reports each true item with probability ``NTS_DETECTION``,
  at its position plus Gaussian error of ``FIND_ERROR_M`` (x, y, date, count);
* ``searched.gpkg``: 30 m CMRS boxes around the first find and around random points near the
  strikes' aim points, each searched with probability of detection ``POD`` (found: a binomial
  draw from the true items in the box);
* ``cleared.gpkg``: one ``CLEAR_M`` square cleared around the third find (found: binomial with ``CLEAR_POD``);
* ``strike_reports.csv``: two witness accounts (lon, lat) of strikes S01 and S06, ``REPORT_ERROR_M`` off;
* ``truth.json``: the truth's items per class, for the tutorial's comparison (the run never reads it).

Run from the repository root (deterministic)::

    python scenarios/data/make_demo_evidence.py
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import Transformer
from shapely.geometry import box
from simulator.kernels import strike_table as T

from simulator.config.variants import load_scenario
from simulator.engine.ensemble import root_key
from simulator.engine.posterior import realization
from simulator.engine.prepare import prepare

HERE = Path(__file__).resolve().parent
DEMO = HERE.parent / "demo-district.toml"
OUT = HERE / "demo-evidence"
HIDDEN_SEED = 7_700_001
SURVEY_DATE, CLEARED_DATE = "2024-05-20", "2024-06-15"
NTS_DETECTION = 0.015  # as the scenario's finds.detection_probability
FIND_ERROR_M = 10.0  # handheld GPS: precise evidence, which resample-move carries
BOX_M = 30.0
POD = 0.6
CLEAR_POD = 0.95
CLEAR_M = 100.0
RANDOM_BOXES = 10
REPORT_ERROR_M = 300.0
REPORTED = ("S01", "S06")


def main() -> None:
    setup = prepare(load_scenario(DEMO, []))
    grid, kernel = setup.grid, setup.kernel
    cells, _, items, aims = realization(replace(kernel, key=root_key(HIDDEN_SEED)), 0)
    counts = np.bincount(cells, weights=items, minlength=grid.n_cells).astype(np.int64)
    rng = np.random.default_rng(HIDDEN_SEED)
    size = grid.cell_size_m
    rows, cols = np.divmod(np.arange(grid.n_cells), grid.nx)
    cx, cy = grid.x0 + (cols + 0.5) * size, grid.y0 - (rows + 0.5) * size
    OUT.mkdir(exist_ok=True)

    reported = rng.binomial(counts, NTS_DETECTION)
    where = np.repeat(np.arange(grid.n_cells), reported)
    fx = cx[where] + rng.uniform(-size / 2, size / 2, len(where)) + rng.normal(0, FIND_ERROR_M, len(where))
    fy = cy[where] + rng.uniform(-size / 2, size / 2, len(where)) + rng.normal(0, FIND_ERROR_M, len(where))
    pd.DataFrame({"x": fx.round(1), "y": fy.round(1), "date": SURVEY_DATE, "count": 1}).to_csv(OUT / "finds.csv",
                                                                                                index=False)

    def held(geometry) -> int:
        xmin, ymin, xmax, ymax = geometry.bounds
        inside = (cx > xmin) & (cx < xmax) & (cy > ymin) & (cy < ymax)
        return int(counts[inside].sum())

    centres = [(x, y) for x, y in zip(fx[:1], fy[:1])]
    aim = kernel.f[:, [T.AIM_X, T.AIM_Y]]
    for k in rng.integers(0, len(aim), RANDOM_BOXES):
        centres.append(tuple(aim[k] + rng.normal(0, 400.0, 2)))
    boxes = [box(x - BOX_M / 2, y - BOX_M / 2, x + BOX_M / 2, y + BOX_M / 2) for x, y in centres]
    found = [int(rng.binomial(held(b), POD)) for b in boxes]
    gpd.GeoDataFrame({"date": SURVEY_DATE, "method": "ts", "pod": POD, "found": found}, geometry=boxes,
                     crs=grid.crs).to_file(OUT / "searched.gpkg", layer="searched", driver="GPKG")

    x, y = fx[2], fy[2]  # around the third find
    square = box(x - CLEAR_M / 2, y - CLEAR_M / 2, x + CLEAR_M / 2, y + CLEAR_M / 2)
    gpd.GeoDataFrame({"date": [CLEARED_DATE], "found": [int(rng.binomial(held(square), CLEAR_POD))]},
                     geometry=[square], crs=grid.crs).to_file(OUT / "cleared.gpkg", layer="cleared", driver="GPKG")

    to_lon_lat = Transformer.from_crs(grid.crs, "EPSG:4326", always_xy=True)
    reports = []
    for sid in REPORTED:
        s = int(np.flatnonzero(setup.strikes.id[kernel.ti[:, T.STREAM]] == sid)[0])
        x, y = aims[s] + rng.normal(0, REPORT_ERROR_M, 2)
        lon, lat = to_lon_lat.transform(x, y)
        reports.append({"lon": round(lon, 6), "lat": round(lat, 6), "date": "2024-03-02",
                        "position_error_m": REPORT_ERROR_M})
    pd.DataFrame(reports).to_csv(OUT / "strike_reports.csv", index=False)

    per_class = np.bincount(setup.landuse_codes.ravel(), weights=counts, minlength=len(setup.class_keys))
    truth = {"hidden_seed": HIDDEN_SEED, "items_on_grid": int(counts.sum()), "finds": int(reported.sum()),
             "found_in_boxes": int(sum(found)),
             "items_by_class": {k: int(v) for k, v in zip(setup.class_keys, per_class)}}
    (OUT / "truth.json").write_text(json.dumps(truth, indent=2) + "\n")


if __name__ == "__main__":
    main()
