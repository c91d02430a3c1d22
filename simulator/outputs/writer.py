"""Write a run's outputs into a folder, complete or not at all.

Everything is written into a hidden staging folder beside the target and moved into place
at the end (``simulator.outputs.staging``); an interrupted run leaves the previous outputs
as they were.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np

from simulator.inputs.grid import Grid
from simulator.outputs import plots, styles
from simulator.outputs.evidence_outputs import write_evidence
from simulator.outputs.imsma import IMSMA_FOLDER, scenario_evidence, write_imsma
from simulator.outputs.plan_outputs import PLAN_FILES, write_plan
from simulator.outputs.qgis_project import PROJECT_FILE, write_qgis_files
from simulator.outputs.rasters import write_categories, write_geotiff
from simulator.outputs.report import REPORT_FILE, write_report
from simulator.outputs.risk_outputs import write_risk
from simulator.outputs.safe import write_csv
from simulator.outputs.staging import check_writable as check_writable  # re-exported for the commands
from simulator.outputs.staging import staged_directory
from simulator.results.cmrs_tables import cmrs_table
from simulator.results.provenance import scenario_hash, versions
from simulator.results.result import Result
from simulator.results.tables import M2_PER_HA
from simulator.results.work_unit_table import work_unit_table

OUTPUT_FILES = (
    "density.tif",
    "p_contaminated.tif",
    "landuse.tif",
    "landuse.tif.aux.xml",
    "hazard_areas.gpkg",
    "hazardous_area.csv",
    "hazardous_area_by_class.csv",
    "density.qml",
    "p_contaminated.qml",
    "landuse.qml",
    "hazard_areas.qml",
    PROJECT_FILE,
    "map.png",
    "hazardous_area.png",
    "run.json",
    REPORT_FILE,
    IMSMA_FOLDER,
)
"""Written by every run (``imsma/``: see ``simulator.outputs.imsma``); a run with clearance adds ``RELEASE_FILES``."""

RELEASE_FILES = ("land_release.csv", "completion.csv", "land_release.png", "completion.png", *PLAN_FILES)
CMRS_FILES = ("cmrs.csv", "cmrs_p_cha.tif")
"""Added by a run with ``[clearance.cmrs]``."""


def write_outputs(result: Result, target: Path, *, overwrite: bool = False, extra: dict | None = None) -> Path:
    """Write every output of ``result`` into ``target``; return it."""
    with staged_directory(target, overwrite) as folder:
        write_rasters(result, folder)
        write_vectors(result, folder)
        write_csv(result.hazardous_area, folder / "hazardous_area.csv")
        write_csv(result.area_by_class, folder / "hazardous_area_by_class.csv")
        write_figures(result, folder)
        units = None
        if result.land_release is not None:
            units = write_land_release(result, folder)
        if result.cmrs is not None:
            write_cmrs(result, folder)
        if result.risk is not None:
            write_risk(result, folder)
        if result.evidence is not None:
            write_evidence(result, folder)
        run_hash = scenario_hash(result.setup)
        write_imsma(folder, result.setup, result.p_contaminated, result.mean_count, result.hazard_areas, run_hash,
                    units, scenario_evidence(result.setup))
        write_qgis_files(result, folder)
        write_run_record(result, folder / "run.json", extra or {})
        write_report(result, folder, run_hash, units)
    return target


def write_analytic(setup, expected: np.ndarray, target: Path, *, overwrite: bool = False, extra: dict | None = None) -> dict:
    """Write the analytic preview (expected density, land use, map, run.json); return its summary."""
    grid = setup.grid
    density = expected * (M2_PER_HA / grid.cell_area_m2)
    per_class = np.bincount(setup.landuse_codes.ravel(), weights=expected.ravel(), minlength=len(setup.class_keys))
    summary = {
        "scenario": setup.scenario.name,
        "mode": "analytic",
        "expected_duds_on_grid": round(float(expected.sum()), 3),
        "by_class": [{"class": k, "expected_duds": round(float(v), 3)} for k, v in zip(setup.class_keys, per_class)],
    }
    with staged_directory(target, overwrite) as folder:
        write_geotiff(folder / "density.tif", grid, density.astype(np.float32),
                      description="expected remnants per hectare (analytic)", units="items/ha", nodata=-1.0)
        (folder / "density.qml").write_text(styles.density_qml(density))
        write_landuse(setup, folder)
        plots.save(plots.district_map(setup, density, None, f"{setup.scenario.name}: expected remnants (analytic preview)"),
                   folder / "map.png")
        record = {"scenario": str(setup.loaded.path), "scenario_sha256": scenario_hash(setup), "versions": versions(),
                  "summary": summary, **(extra or {})}
        (folder / "run.json").write_text(json.dumps(record, indent=2, default=str) + "\n")
    return summary


def write_rasters(result: Result, folder: Path) -> None:
    grid = result.grid
    write_geotiff(folder / "density.tif", grid, result.density_per_ha.astype(np.float32),
                  description="expected remnants per hectare", units="items/ha", nodata=-1.0)
    (folder / "density.qml").write_text(styles.density_qml(result.density_per_ha))
    write_geotiff(folder / "p_contaminated.tif", grid, result.p_contaminated,
                  description="probability that the cell is contaminated (within the reference distance of a remnant)",
                  units="probability", nodata=-1.0)
    write_landuse(result.setup, folder)


def write_landuse(setup, folder: Path) -> None:
    keys = setup.class_keys
    classes = setup.scenario.land_use.classes
    codes = np.where(setup.inside, setup.landuse_codes + 1, 0).astype(np.uint8)  # nodata outside the study area
    write_geotiff(folder / "landuse.tif", setup.grid, codes,
                  description="land-use class code (1 = first class of the scenario)", units="class", nodata=0,
                  category_names=["nodata", *keys])
    (folder / "landuse.qml").write_text(styles.landuse_qml([(classes[k].name, classes[k].colour) for k in keys]),
                                        encoding="utf-8")
    write_categories(folder / "landuse.tif", {i + 1: (classes[k].name, classes[k].colour) for i, k in enumerate(keys)})


def write_vectors(result: Result, folder: Path) -> None:
    path = folder / "hazard_areas.gpkg"
    result.hazard_areas.to_file(path, layer="hazard_areas", driver="GPKG")
    qml = styles.hazard_qml(result.setup.scenario.hazard.threshold)
    (folder / "hazard_areas.qml").write_text(qml)
    styles.store_in_geopackage(path, "hazard_areas", qml, "remnant hazard areas")
    columns = result.setup.strikes
    strikes = gpd.GeoDataFrame(
        {
            "id": columns.id.astype(str),
            "profile": columns.profile.astype(str),
            "date": np.datetime_as_string(columns.date, unit="D"),
            "carriers": columns.carriers,
            "on_grid": result.setup.on_grid,
        },
        geometry=gpd.points_from_xy(columns.x, columns.y),
        crs=result.grid.crs,
    )
    strikes.to_file(path, layer="strikes", driver="GPKG")


def write_figures(result: Result, folder: Path) -> None:
    name = result.setup.scenario.name
    hazard = result.setup.scenario.hazard
    p = result.p_contaminated
    plots.save(plots.district_map(result.setup, result.density_per_ha, (p >= hazard.threshold) & result.setup.inside,  # CHA, as in the summary
                                  f"{name}: expected cluster munition remnants ({result.ensemble.realizations} realizations)",
                                  suspected=(p >= hazard.suspect_threshold) & result.setup.inside), folder / "map.png")
    plots.save(plots.area_over_time(result.hazardous_area, result.setup.scenario.land_use,
                                    f"{name}: contaminated area, SHA and CHA by land use"), folder / "hazardous_area.png")


def write_land_release(result: Result, folder: Path) -> gpd.GeoDataFrame:
    """Land release tables and figures, and the plan (returned: the work-unit layer)."""
    name = result.setup.scenario.name
    deadline = result.setup.scenario.clearance.deadline
    write_csv(result.land_release_table, folder / "land_release.csv")
    write_csv(result.completion, folder / "completion.csv")
    plots.save(plots.land_release(result.land_release_table, result.setup.scenario.land_use,
                                  f"{name}: land release ({result.ensemble.realizations} realizations)", deadline),
               folder / "land_release.png")
    plots.save(plots.completion(result.completion, deadline,
                                f"{name}: when is all suspected hazardous area (SHA) released?"),
               folder / "completion.png")
    units = work_unit_table(result)
    write_plan(units, folder, f"{name}: the plan", result.setup.scenario.clearance.deadline)
    return units


def write_cmrs(result: Result, folder: Path) -> None:
    write_csv(cmrs_table(result.cmrs), folder / "cmrs.csv")
    grid, p = result.grid, result.cmrs.p_cha
    boxes = Grid(grid.crs, grid.x0, grid.y0, result.cmrs.box_m, p.shape[1], p.shape[0])
    write_geotiff(folder / "cmrs_p_cha.tif", boxes, p, description="share of scored realizations in which the "
                  "CMRS box is confirmed hazardous area", units="probability", nodata=-1.0)


def write_run_record(result: Result, path: Path, extra: dict) -> None:
    sc = result.setup.scenario
    record = {
        "scenario": str(result.setup.loaded.path),
        "scenario_sha256": scenario_hash(result.setup),
        "seed": sc.simulation.seed,
        "realizations": result.ensemble.realizations,
        "versions": versions(),
        "timings_s": {k: round(v, 3) for k, v in result.timings_s.items()},
        "land_use": result.setup.land_use.report.lines(),
        "summary": result.summary,
        **extra,
    }
    path.write_text(json.dumps(record, indent=2, default=str) + "\n")
