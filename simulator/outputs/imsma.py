"""An IMSMA-ready export: hazard areas, evidence points and land-release activities as GeoJSON.

Written to ``imsma/`` in WGS 84 (EPSG:4326, RFC 7946: longitude, latitude), with attributes
named after GICHD's Minimum Data Requirements and the IMSMA hazard (``hazard_*``) and hazard
reduction (``hazreduc_*``) records; the mapping and its sources are in docs/imsma.md. Every
record is labelled as a modelled estimate, not a survey result.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from simulator.engine.prepare import Setup
from simulator.inputs.evidence import Points, read_evidence
from simulator.results.polygons import hazard_polygons

IMSMA_FOLDER = "imsma"
IMSMA_FILES = ("hazards.geojson", "land_release.geojson", "evidence.geojson")
"""``evidence.geojson`` only when the run has evidence points; ``land_release.geojson`` only with land release."""

WGS84 = "EPSG:4326"
CONTAMINATION = "cluster munition remnants"
STATUS_OPEN = "open"
"""MDR's hazard status values are open, closed and handed over: a modelled area is open until released."""

INFORMATION_SOURCE = "remnant model run (modelled estimate, not surveyed)"
ACTIVITY_TYPES = {"nts": "non-technical survey", "ts": "technical survey", "bac": "clearance"}


@dataclass(frozen=True)
class EvidencePoint:
    """A piece of evidence at a point of the study area's CRS (m): its id, kind (e.g. a find, a
    witness report), date and a free-text description."""

    id: str
    x: float
    y: float
    kind: str
    day: date
    description: str = ""


def _write(frame: gpd.GeoDataFrame, path: Path) -> None:
    """``frame`` as RFC 7946 GeoJSON in WGS 84."""
    frame.to_crs(WGS84).to_file(path, driver="GeoJSON", RFC7946="YES", WRITE_NAME="NO")


def hazard_records(setup: Setup, p: np.ndarray, mean_count: np.ndarray, cha: gpd.GeoDataFrame,
                   run_id: str) -> gpd.GeoDataFrame:
    """CHA polygons (``cha``, the run's hazard areas) and SHA polygons (land suspected but below the
    hazard threshold, grouped and filtered the same way) as IMSMA hazard records, in the run's CRS."""
    hazard = setup.scenario.hazard
    below = np.where(p < hazard.threshold, p, -1.0)
    sha = hazard_polygons(setup.grid, below, mean_count, setup.landuse_codes, setup.class_keys,
                          hazard.suspect_threshold, hazard.reference_distance_m, hazard.min_area_m2)
    as_of = setup.steps.dates[-1].isoformat()
    name = setup.scenario.name
    frames = []
    for kind, table in (("CHA", cha), ("SHA", sha)):
        n = len(table)
        frames.append(pd.DataFrame({
            "hazard_localid": [f"{name}-{kind}-{i}" for i in table["id"]],
            "hazard_type": [kind] * n,
            "confirmed": ["yes" if kind == "CHA" else "no"] * n,
            "contamination_type": [CONTAMINATION] * n,
            "status": [STATUS_OPEN] * n,
            "calculated_area_m2": table["area_m2"].to_numpy(float),
            "expected_items": table["expected_items"].to_numpy(float),
            "max_probability": table["max_probability"].to_numpy(float),
            "main_land_use": table["main_class"].to_numpy(object),
            "evidence_of_contamination": [f"modelled from strikes {s}" if s else "modelled"
                                          for s in table["strikes"]],
            "date_of_information": [as_of] * n,
            "informationsource": [INFORMATION_SOURCE] * n,
            "run_id": [run_id] * n,
            "geometry": table.geometry.to_numpy(),
        }))
    records = pd.concat(frames, ignore_index=True)
    records.insert(0, "imsma_id", [f"hazard_poly_{i + 1}" for i in range(len(records))])
    return gpd.GeoDataFrame(records, geometry="geometry", crs=setup.grid.crs)


def activity_records(units: gpd.GeoDataFrame, hazards: gpd.GeoDataFrame, name: str, run_id: str) -> gpd.GeoDataFrame:
    """Per work unit, the planned land-release activity (IMSMA hazard reduction record): methods,
    median start and finish, mean area cancelled, reduced and cleared over the scored realizations,
    and links to the hazard records it overlaps."""
    tree = shapely.STRtree(hazards.geometry.to_numpy())
    unit_index, hazard_index = tree.query(units.geometry.to_numpy(), predicate="intersects")
    links: list[list[str]] = [[] for _ in range(len(units))]
    for u, h in zip(unit_index, hazard_index):
        links[u].append(hazards["imsma_id"].iat[h])
    methods = units["method"].to_numpy()
    starts = units["nts_start_p50"].to_numpy()
    finish = [next((f for f in reversed(row) if f), "") for row in
              units[[f"{m}_finish_p50" for m in ACTIVITY_TYPES]].to_numpy()]
    return gpd.GeoDataFrame({
        "imsma_id": [f"hazreduc_poly_{i}" for i in units["id"]],
        "hazreduc_localid": [f"{name}-WU-{i}" for i in units["id"]],
        "hazreduc_type": [", ".join(ACTIVITY_TYPES[m] for m in method.split("+")) for method in methods],
        "status": ["planned"] * len(units),
        "priority": units["priority_rank"].to_numpy(),
        "land_use": units["class_name"].to_numpy(object),
        "calculated_area_m2": units["area_m2"].to_numpy(float),
        "cancelled_area_m2": units["cancelled_m2_mean"].to_numpy(float),
        "reduced_area_m2": units["reduced_m2_mean"].to_numpy(float),
        "cleared_area_m2": units["cleared_m2_mean"].to_numpy(float),
        "start_date": starts,
        "end_date": finish,
        "imsma_links": [",".join(found) for found in links],
        "informationsource": [INFORMATION_SOURCE] * len(units),
        "run_id": [run_id] * len(units),
    }, geometry=units.geometry.to_numpy(), crs=units.crs)


def evidence_records(points: Sequence[EvidencePoint], crs, name: str, run_id: str) -> gpd.GeoDataFrame:
    """Evidence points as IMSMA records (direct evidence: MDR "type and location of direct evidence found")."""
    return gpd.GeoDataFrame({
        "imsma_id": [f"evidence_point_{i + 1}" for i in range(len(points))],
        "evidence_localid": [f"{name}-EV-{p.id}" for p in points],
        "evidence_type": [p.kind for p in points],
        "contamination_type": [CONTAMINATION] * len(points),
        "date_of_information": [p.day.isoformat() for p in points],
        "description": [p.description for p in points],
        "run_id": [run_id] * len(points),
    }, geometry=gpd.points_from_xy([p.x for p in points], [p.y for p in points]), crs=crs)


def scenario_evidence(setup: Setup) -> list[EvidencePoint]:
    """The scenario's point evidence (finds and witness strike reports of ``[evidence]``) as evidence
    points; a point without a date takes the time axis's start. None without ``[evidence]``."""
    spec = setup.scenario.evidence
    if spec is None:
        return []
    data = read_evidence(spec, grid_crs=setup.grid.crs, profiles=set(setup.loaded.profiles))
    start = setup.scenario.time.start

    def points(rows: Points, kind: str, prefix: str, what) -> list[EvidencePoint]:
        days = [start if np.isnat(d) else pd.Timestamp(d).date() for d in rows.date]
        return [EvidencePoint(f"{prefix}{i + 1}", float(rows.x[i]), float(rows.y[i]), kind, days[i], what(i))
                for i in range(len(rows))]

    return (points(data.finds, "find", "F", lambda i: f"{int(data.finds.count[i])} item(s) found")
            + points(data.reports, "strike report", "R",
                     lambda i: f"witness report of a strike, position error {data.reports.error_m[i]:g} m"))


def write_imsma(folder: Path, setup: Setup, p: np.ndarray, mean_count: np.ndarray, cha: gpd.GeoDataFrame,
                run_id: str, units: gpd.GeoDataFrame | None = None,
                evidence: Sequence[EvidencePoint] = ()) -> Path:
    """Write ``folder/imsma/``: hazard records always, activities with a plan (``units``), evidence when given."""
    target = folder / IMSMA_FOLDER
    target.mkdir()
    name = setup.scenario.name
    hazards = hazard_records(setup, p, mean_count, cha, run_id)
    _write(hazards, target / "hazards.geojson")
    if units is not None:
        _write(activity_records(units, hazards, name, run_id), target / "land_release.geojson")
    if evidence:
        _write(evidence_records(evidence, setup.grid.crs, name, run_id), target / "evidence.geojson")
    return target
