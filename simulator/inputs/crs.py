"""CRS checks shared by the land-use layer and strike records: fit, suggestions, distance distortion."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pyproj import CRS, Proj, Transformer

from simulator.errors import InputError

AREA_OF_USE_MARGIN_DEG = 1.0
"""Coordinates may reach this far (degrees) outside their CRS's area of use."""
MAX_SCALE_ERROR = 0.01
"""Assumption: a study-area CRS may stretch distances by at most 1 % (areas by about 2 %) at the study
area's centre; Web Mercator (EPSG:3857) stretches them by 26 % in Sicily, UTM by at most about 0.4 %
within its zone."""


def local_utm_crs(lon: float, lat: float) -> str:
    """The WGS 84 / UTM zone CRS of a point in degrees, e.g. "EPSG:32635" (standard 6-degree zones)."""
    zone = int((lon + 180.0) % 360.0 // 6.0) + 1
    return f"EPSG:{(32600 if lat >= 0 else 32700) + zone}"


def lon_lat_bounds(crs: CRS, bounds) -> tuple[float, float, float, float] | None:
    """``bounds`` in ``crs`` as lon/lat bounds (degrees), or None if they do not fit the CRS's area of use."""
    lon_lat = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    if crs.is_geographic:
        fits = bounds[0] >= -180 and bounds[2] <= 180 and bounds[1] >= -90 and bounds[3] <= 90
        return tuple(lon_lat.transform_bounds(*bounds)) if fits else None
    ll = lon_lat.transform_bounds(*bounds, densify_pts=21)
    if not np.isfinite(ll).all():
        return None
    if crs.area_of_use is not None:
        w, s, e, n = crs.area_of_use.bounds
        m = AREA_OF_USE_MARGIN_DEG
        if not (ll[0] <= e + m and ll[2] >= w - m and ll[1] <= n + m and ll[3] >= s - m):
            return None
    return tuple(ll)


def in_area_of_use(crs: CRS, lon: float, lat: float) -> bool:
    """Whether (lon, lat) lies within ``crs``'s area of use, give or take ``AREA_OF_USE_MARGIN_DEG``."""
    if crs.area_of_use is None:
        return True
    w, s, e, n = crs.area_of_use.bounds
    m = AREA_OF_USE_MARGIN_DEG
    return w - m <= lon <= e + m and s - m <= lat <= n + m


def where(lon: float, lat: float) -> str:
    """``'21.00 E, 42.45 N'``."""
    return f"{abs(lon):.2f} {'E' if lon >= 0 else 'W'}, {abs(lat):.2f} {'N' if lat >= 0 else 'S'}"


def fitting_crs(bounds, candidates=()) -> list[str]:
    """'EPSG:n (around LON E, LAT N)' for each of EPSG:4326, EPSG:3857 and ``candidates`` the bounds fit."""
    found = []
    for code in dict.fromkeys(["EPSG:4326", "EPSG:3857", *candidates]):
        ll = lon_lat_bounds(CRS.from_user_input(code), bounds)
        if ll is not None and (code != "EPSG:3857" or abs(bounds[0]) > 180 or abs(bounds[3]) > 90):
            lon, lat = (ll[0] + ll[2]) / 2, (ll[1] + ll[3]) / 2
            found.append(f"{label(code)} (around {where(lon, lat)})")
    return found


def scale_error(crs: CRS, lon: float, lat: float) -> float:
    """How much ``crs`` stretches or shrinks distances at (lon, lat), as a fraction (0: not at all)."""
    if not crs.is_projected:
        return 0.0
    try:
        factors = Proj(crs).get_factors(lon, lat)
    except Exception:  # noqa: BLE001 - PROJ cannot tell for some CRSs; trust them
        return 0.0
    scales = np.array([factors.meridional_scale, factors.parallel_scale])
    if not np.isfinite(scales).all():
        return 0.0
    return float(np.abs(scales - 1.0).max())


def distortion_error(path: Path, field: str, crs: CRS, lon: float, lat: float) -> InputError:
    error = scale_error(crs, lon, lat)
    return InputError(
        path, field, label(crs.to_string()),
        f"use a CRS that keeps distances, e.g. '{local_utm_crs(lon, lat)}' (the local UTM zone)",
        f"stretches distances by {error:.0%} at the study area (more than {MAX_SCALE_ERROR:.0%}), "
        "so cell areas and footprints would be wrong;",
    )


def label(crs: str | None) -> str:
    """A short name for a CRS string (its authority code, or its name)."""
    if crs is None or len(crs) <= 40:
        return str(crs)
    return CRS.from_user_input(crs).name
