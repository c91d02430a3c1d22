"""GeoTIFF outputs: Cloud Optimized GeoTIFF with CRS, nodata, band description and units; for
categorical rasters a colour table in the file and class names in GDAL's ``.aux.xml`` sidecar."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import rasterio
from rasterio.io import MemoryFile
from rasterio.shutil import copy as copy_dataset

from simulator.inputs.grid import Grid
from simulator.outputs.safe import xml_text


def write_geotiff(
    path: Path,
    grid: Grid,
    band: np.ndarray,
    *,
    description: str,
    units: str,
    nodata: float | int | None,
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
            if category_names:
                dst.update_tags(1, CATEGORY_NAMES=";".join(category_names))
        with memory.open() as src:
            resampling = "NEAREST" if np.issubdtype(band.dtype, np.integer) else "AVERAGE"
            copy_dataset(
                src, str(path), driver="COG", COMPRESS="DEFLATE", OVERVIEWS="AUTO", RESAMPLING=resampling,
                BLOCKSIZE=256,
            )


RAT_FIELDS = (("Value", 0, 5), ("Class", 2, 2), ("Red", 0, 6), ("Green", 0, 7), ("Blue", 0, 8), ("Alpha", 0, 9))
"""Raster attribute table columns: (name, GDAL field type, GDAL field usage): integer value
(GFU_MinMax), string class name (GFU_Name) and its colour (GFU_Red ... GFU_Alpha)."""


def write_categories(path: Path, categories: dict[int, tuple[str, str]], nodata_name: str = "no data") -> Path:
    """Write ``path``.aux.xml describing each code of a categorical GeoTIFF: ``{code: (name, '#rrggbb')}``.

    GDAL reads it as the band's palette (a colour table of exactly ``max(code) + 1`` entries,
    code 0 transparent), its category names and a thematic raster attribute table (value, class
    name, colour). QGIS opens such a raster paletted, its classes named and coloured; a colour
    table inside the TIFF would have 256 entries, so QGIS would list 256 classes."""
    top = max(categories)
    named = {0: (nodata_name, None)} | categories
    names = "".join(f"<Category>{xml_text(named[code][0]) if code in named else ''}</Category>" for code in range(top + 1))
    entries = "".join('<Entry c1="{}" c2="{}" c3="{}" c4="{}"/>'.format(
        *(hex_to_rgba(categories[code][1]) if code in categories else (0, 0, 0, 0))) for code in range(top + 1))
    fields = "".join(f'<FieldDefn index="{i}"><Name>{name}</Name><Type>{kind}</Type><Usage>{usage}</Usage></FieldDefn>'
                     for i, (name, kind, usage) in enumerate(RAT_FIELDS))
    rows = "".join(f'<Row index="{i}"><F>{code}</F><F>{xml_text(name)}</F>'
                   + "".join(f"<F>{c}</F>" for c in hex_to_rgba(colour)) + "</Row>"
                   for i, (code, (name, colour)) in enumerate(sorted(categories.items())))
    aux = path.with_name(path.name + ".aux.xml")
    aux.write_text(f'<PAMDataset>\n  <PAMRasterBand band="1">\n    <ColorInterp>Palette</ColorInterp>\n'
                   f"    <CategoryNames>{names}</CategoryNames>\n    <ColorTable>{entries}</ColorTable>\n"
                   f'    <GDALRasterAttributeTable tableType="thematic">{fields}{rows}</GDALRasterAttributeTable>\n'
                   f"  </PAMRasterBand>\n</PAMDataset>\n", encoding="utf-8")
    return aux


def hex_to_rgba(colour: str) -> tuple[int, int, int, int]:
    """'#rrggbb' -> (r, g, b, 255)."""
    return (int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16), 255)


def read_band(path: Path) -> tuple[np.ndarray, rasterio.profiles.Profile]:
    """The first band and the profile of a GeoTIFF."""
    with rasterio.open(path) as src:
        return src.read(1), src.profile
