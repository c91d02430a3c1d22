"""GeoTIFF outputs: Cloud Optimized GeoTIFF with CRS, nodata, band description and units."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import rasterio
from rasterio.io import MemoryFile
from rasterio.shutil import copy as copy_dataset

from simulator.inputs.grid import Grid


def write_geotiff(
    path: Path,
    grid: Grid,
    band: np.ndarray,
    *,
    description: str,
    units: str,
    nodata: float | int | None,
    colormap: dict[int, tuple[int, int, int, int]] | None = None,
    category_names: list[str] | None = None,
) -> None:
    """Write one band of ``grid.shape`` to ``path`` as a deflate-compressed COG with overviews."""
    profile = {
        "driver": "GTiff",
        "width": grid.nx,
        "height": grid.ny,
        "count": 1,
        "dtype": band.dtype,
        "crs": grid.crs,
        "transform": grid.transform,
        "nodata": nodata,
    }
    with MemoryFile() as memory:
        with memory.open(**profile) as dst:
            dst.write(band, 1)
            dst.set_band_description(1, description)
            dst.set_band_unit(1, units)
            if colormap:
                dst.write_colormap(1, colormap)
            if category_names:
                dst.update_tags(1, CATEGORY_NAMES=";".join(category_names))
        with memory.open() as src:
            resampling = "NEAREST" if colormap or np.issubdtype(band.dtype, np.integer) else "AVERAGE"
            copy_dataset(
                src, str(path), driver="COG", COMPRESS="DEFLATE", OVERVIEWS="AUTO", RESAMPLING=resampling,
                BLOCKSIZE=256,
            )


def hex_to_rgba(colour: str) -> tuple[int, int, int, int]:
    """'#rrggbb' -> (r, g, b, 255)."""
    return (int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16), 255)


def read_band(path: Path) -> tuple[np.ndarray, rasterio.profiles.Profile]:
    """The first band and the profile of a GeoTIFF."""
    with rasterio.open(path) as src:
        return src.read(1), src.profile
