"""Shapes shared by the synthetic scenario generators.

Used by ``make_demo_district.py`` (beside this file) and ``national/make_national_campaign.py``,
both run as scripts from the repository root. Random shapes draw from the generator's own
``numpy.random.Generator`` passed in, so each script's stream of draws, and therefore its
output files, stay the same. Coordinates are local metres.
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import contourpy
import geopandas as gpd
import numpy as np
import pyogrio
import shapely
from shapely.geometry import Polygon


def chaikin(coords: np.ndarray, iterations: int, closed: bool = False) -> np.ndarray:
    """Corner-cutting smoothing of a polyline (ends kept) or closed ring, ``iterations`` passes."""
    pts = np.asarray(coords, dtype=float)
    for _ in range(iterations):
        a = pts if closed else pts[:-1]
        b = np.roll(pts, -1, axis=0) if closed else pts[1:]
        mid = np.empty((2 * len(a), 2))
        mid[0::2], mid[1::2] = 0.75 * a + 0.25 * b, 0.25 * a + 0.75 * b
        pts = mid if closed else np.vstack([pts[:1], mid, pts[-1:]])
    return pts


def blob(rng: np.random.Generator, cx: float, cy: float, radius: float, irregularity: float, n: int, *,
         top_harmonic: int, min_ratio: float, stretch: float = 1.0, angle_deg: float = 0.0) -> Polygon:
    """Irregular closed blob of ``n`` vertices around (cx, cy): a circle of ``radius`` (m) with random
    harmonics 2..``top_harmonic``, the radius kept at least ``min_ratio`` of ``radius``, stretched
    along x by ``stretch`` and rotated by ``angle_deg`` (counter-clockwise)."""
    theta = np.linspace(0.0, 2.0 * math.pi, n, endpoint=False)
    r = np.ones(n)
    for k in range(2, top_harmonic + 1):
        r += irregularity / (k - 1) ** 0.8 * rng.uniform(-1.0, 1.0) * np.cos(k * theta + rng.uniform(0, 2 * math.pi))
    r = radius * np.clip(r, min_ratio, None)
    x, y = r * np.cos(theta) * stretch, r * np.sin(theta)
    a = math.radians(angle_deg)
    return shapely.make_valid(Polygon(np.column_stack([cx + x * math.cos(a) - y * math.sin(a),
                                                       cy + x * math.sin(a) + y * math.cos(a)])))


def smooth_noise(rng: np.random.Generator, shape: tuple[int, int], sigma_cells: float,
                 periodic: bool = False) -> np.ndarray:
    """Gaussian-smoothed white noise of ``shape`` (FFT filter of SD ``sigma_cells``), scaled to unit std.

    ``periodic`` filters the field as it is, so it wraps around at its edges; otherwise it is padded
    by 3 SD + 1 cells on every side and cropped.
    """
    pad = 0 if periodic else int(3 * sigma_cells) + 1
    ny, nx = shape[0] + 2 * pad, shape[1] + 2 * pad
    white = rng.standard_normal((ny, nx))
    ky, kx = np.meshgrid(np.fft.fftfreq(ny), np.fft.fftfreq(nx), indexing="ij")
    kernel = np.exp(-2.0 * (math.pi * sigma_cells) ** 2 * (kx**2 + ky**2))
    field = np.real(np.fft.ifft2(np.fft.fft2(white) * kernel))[pad:ny - pad, pad:nx - pad]
    return (field - field.mean()) / field.std()


def filled_contour(x: np.ndarray, y: np.ndarray, z: np.ndarray, level: float, *, min_area: float = 0.0,
                   min_hole: float = 0.0, simplify: float = 0.0):
    """Union of the polygons where z (on nodes ``x``, ``y``) >= level, rings smoothed; without
    outlines under ``min_area`` or holes under ``min_hole`` (m2), each simplified by ``simplify`` (m)."""
    gen = contourpy.contour_generator(x, y, z, fill_type=contourpy.FillType.OuterOffset)
    points, offsets = gen.filled(level, np.inf)
    polys = []
    for pts, offs in zip(points, offsets):
        rings = [chaikin(pts[a:b - 1], 2, closed=True) for a, b in itertools.pairwise(offs)]
        rings = [r for r in rings if len(r) >= 4]
        if not rings or Polygon(rings[0]).area < min_area:
            continue
        poly = Polygon(rings[0], [r for r in rings[1:] if Polygon(r).area >= min_hole])
        polys.append(shapely.make_valid(shapely.simplify(poly, simplify) if simplify else poly))
    return shapely.union_all(polys)


def polys_only(geom):
    """The polygonal parts of a geometry (overlay results can carry slivers of lines)."""
    parts = [p for p in shapely.get_parts(geom) if p.geom_type == "Polygon" and not p.is_empty]
    return shapely.multipolygons(parts) if parts else Polygon()


def clip(geom, extent: Polygon, grid: float, simplify: float = 0.0):
    """``geom`` simplified by ``simplify`` (m, if given), made valid and clipped to ``extent`` on the
    precision grid ``grid`` (m): its polygons only."""
    if simplify:
        geom = shapely.simplify(geom, simplify)
    return polys_only(shapely.intersection(shapely.make_valid(geom), extent, grid_size=grid))


def place(raw: dict, placed, grid: float, clip_to) -> tuple[dict, object]:
    """Place each class of ``raw`` in its order: its shape through ``clip_to`` less everything placed
    before it (starting from ``placed``). Returns the placed layers and all that is placed."""
    layers = {}
    for cls, geom in raw.items():
        layers[cls] = polys_only(shapely.difference(clip_to(geom), placed, grid_size=grid))
        placed = shapely.union(placed, layers[cls], grid_size=grid)
    return layers, placed


def rebuild_partition(layers: dict, extent: Polygon, grid: float) -> dict:
    """The partition ``layers`` (class -> geometry, in placement order, the last class the rest)
    rebuilt from one noded set of edges, so that neighbours share identical edges.

    Snap-rounded overlays leave centimetre slivers where neighbouring edges were noded in different
    operations: polygonize all boundaries, give each face the first class that contains it (else
    the last class) and dissolve the faces per class.
    """
    order = list(layers)
    edges = shapely.union_all([shapely.boundary(g) for g in layers.values()] + [extent.boundary], grid_size=grid)
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(edges)))
    faces = faces[shapely.area(faces) > 0.0]
    for g in layers.values():
        shapely.prepare(g)
    inner = shapely.point_on_surface(faces)
    face_class = np.full(len(faces), order[-1], dtype=object)
    for cls in reversed(order[:-1]):
        face_class[shapely.contains(layers[cls], inner)] = cls
    return {c: shapely.coverage_union_all(faces[face_class == c]) for c in order}


def shift(geom, x0: float, y0: float, decimals: int):
    """``geom`` moved by (x0, y0) (m) from local to map coordinates, each rounded to ``decimals``
    (vertices shared before stay shared)."""
    offset = np.array([x0, y0])
    return shapely.transform(geom, lambda c: np.round(c + offset, decimals))


def write_gpkg(path: Path, layers: dict[str, gpd.GeoDataFrame], timestamp: str) -> None:
    """Write ``layers`` (name -> frame) into a new GeoPackage at ``path``; the fixed ``timestamp``
    (ISO 8601) in its metadata makes repeated runs byte-identical."""
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": timestamp})
    if path.exists():
        path.unlink()
    for name, frame in layers.items():
        frame.to_file(path, layer=name, driver="GPKG", engine="pyogrio")
