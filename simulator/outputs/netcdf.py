"""A run's rasters as one xarray Dataset with a CF grid mapping, and as NetCDF (``rasters.nc``).

Follows the CF conventions (1.8): ``x`` / ``y`` are cell-centre projection coordinates in
metres with their standard names, every raster names the scalar ``spatial_ref`` variable as
its ``grid_mapping``, and that variable holds the CRS (``crs_wkt``, the same WKT as
``spatial_ref`` for GDAL and rioxarray, the CF grid-mapping attributes pyproj derives, and
GDAL's ``GeoTransform``). Land-use codes carry ``flag_values`` / ``flag_meanings``. Every
attribute is a string, a number or a numeric array, so the Dataset writes with any xarray
engine, the default scipy one (NetCDF 3) included, and reads back unchanged. xarray is imported
only when a Dataset is made, so commands that write no NetCDF do not pay for it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from pyproj import CRS

from simulator import __version__
from simulator.results.result import Result

if TYPE_CHECKING:
    import xarray as xr

NETCDF_FILE = "rasters.nc"

GRID_MAPPING = "spatial_ref"
"""The name of the CRS variable (as GDAL and rioxarray name it)."""


def coordinates(result: Result) -> dict[str, xr.DataArray]:
    """``x``, ``y`` (cell centres, m) and the ``spatial_ref`` grid mapping of ``result``'s grid."""
    import xarray as xr

    grid = result.grid
    xs, ys = grid.cell_centres()
    crs = CRS.from_user_input(grid.crs)
    wkt = crs.to_wkt()
    mapping = {k: v for k, v in crs.to_cf().items() if isinstance(v, (str, int, float))}
    transform = grid.transform
    mapping |= {"crs_wkt": wkt, "spatial_ref": wkt,
                "GeoTransform": " ".join(f"{v!r}" for v in (transform.c, transform.a, transform.b, transform.f,
                                                             transform.d, transform.e))}
    return {
        "x": xr.DataArray(xs, dims="x", attrs={"standard_name": "projection_x_coordinate", "units": "m", "axis": "X",
                                               "long_name": "x coordinate of projection (cell centre)"}),
        "y": xr.DataArray(ys, dims="y", attrs={"standard_name": "projection_y_coordinate", "units": "m", "axis": "Y",
                                               "long_name": "y coordinate of projection (cell centre)"}),
        GRID_MAPPING: xr.DataArray(np.int32(0), attrs=mapping),
    }


def data_array(result: Result, values: np.ndarray, name: str, units: str, long_name: str, **attrs) -> xr.DataArray:
    """``values`` (grid shape, row 0 north) with CF coordinates; ``attrs`` added to the usual ones."""
    import xarray as xr

    grid = result.grid
    return xr.DataArray(
        values, dims=("y", "x"), coords=coordinates(result), name=name,
        attrs={"units": units, "long_name": long_name, "grid_mapping": GRID_MAPPING, "crs": grid.crs,
               "cell_size_m": float(grid.cell_size_m), "transform": np.array(tuple(grid.transform)[:6]), **attrs},
    )


def land_use_array(result: Result) -> xr.DataArray:
    """Land-use class code per cell, 0 for the first class; ``flag_meanings`` lists the class keys by code."""
    keys = result.setup.class_keys
    return data_array(result, result.setup.landuse_codes.astype(np.int16), "land_use", "class", "land-use class code",
                      flag_values=np.arange(len(keys), dtype=np.int16),
                      flag_meanings=" ".join("_".join(key.split()) for key in keys))


def rasters(result: Result) -> dict[str, xr.DataArray]:
    """Density, mean count, P(contaminated) and land use of ``result``, by name."""
    hazard = result.setup.scenario.hazard
    arrays = [
        data_array(result, result.density_per_ha, "density", "items/ha", "expected remnants per hectare"),
        data_array(result, result.mean_count, "mean_count", "items", "expected remnants per cell"),
        data_array(result, result.p_contaminated, "p_contaminated", "probability",
                   "probability that the cell is contaminated (within the reference distance of a remnant)",
                   hazard_threshold=hazard.threshold, suspect_threshold=hazard.suspect_threshold),
        land_use_array(result),
    ]
    return {a.name: a for a in arrays}


def dataset(result: Result) -> xr.Dataset:
    """Every raster of ``rasters(result)`` in one CF Dataset."""
    import xarray as xr

    sc = result.setup.scenario
    return xr.Dataset(rasters(result), attrs={
        "Conventions": "CF-1.8", "title": f"{sc.name}: remnant contamination rasters", "scenario": sc.name,
        "source": f"remnant {__version__}", "crs": result.grid.crs, "realizations": result.ensemble.realizations,
        "seed": sc.simulation.seed,
    })


def write_netcdf(result: Result, path: Path) -> Path:
    """Write ``dataset(result)`` to ``path`` (NetCDF, with whichever engine xarray finds; scipy at least),
    through a temporary file beside it, so ``path`` is complete or absent."""
    partial = path.with_name(f".{path.name}.partial")
    try:
        dataset(result).to_netcdf(partial)
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    return path
