"""Generate the SYNTHETIC national-scale campaign used to benchmark country-size runs.

Everything here is invented: a made-up country, made-up rivers, villages and supply
corridors, and a made-up strike table. It is sized after the cluster munition
contamination of Lao PDR (more than 270 million submunitions over about 236,800 km2 in
1964-73, mostly air-dropped dispensers, concentrated along supply corridors and on a
few plains), but it reproduces no real place and no real mission record. Use it only to
exercise the simulator at national scale.

Files written next to this script:

* ``land_use.gpkg``, layer ``land_use``: polygons with ``class`` in forest, farmland,
  village, water, wetland, upland (bare or grass highland), EPSG:32648 (UTM 48N),
  partitioning the extent x 200000..800000, y 1500000..1900000 m exactly (no gaps, no
  overlaps; coordinates on a 1 m grid).
* ``strikes.csv.gz``: one row per strike record,
  ``id,date,profile,carriers,x,y,azimuth_deg,dud_mean,dud_spread``; x, y in EPSG:32648
  metres. Profiles: dispenser-670, dispenser-202, rocket-220mm-30. The total number of
  submunitions, sum(carriers * per-carrier), is 270 million to within one record.

Run from the repository root::

    python scenarios/data/national/make_national_campaign.py

The output is deterministic: fixed seed, fixed rounding, sorted records, a fixed
GeoPackage timestamp and a gzip header without time or file name.
"""

from __future__ import annotations

import gzip
import io
import math
import sys
import time
from functools import partial
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import LineString, Polygon, box
from shapely.ops import substring

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # scenarios/data, which holds shapes.py
import shapes
from shapes import chaikin, polys_only

SEED = 19640519
CRS = "EPSG:32648"
X0, Y0 = 200000.0, 1500000.0  # south-west corner of the extent (UTM 48N, m)
W, H = 600000.0, 400000.0  # extent size (m): 600 x 400 km = 240,000 km2
GRID = 1.0  # m, coordinate precision of every land-use geometry
CELL = 1000.0  # m, spacing of the coarse fields the land use is contoured from
SIMPLIFY = 60.0  # m, simplification tolerance of contoured shapes
OUT_DIR = Path(__file__).resolve().parent
GPKG = OUT_DIR / "land_use.gpkg"
CSV = OUT_DIR / "strikes.csv.gz"

TOTAL_SUBMUNITIONS = 270_000_000
FIRST_DAY, LAST_DAY = np.datetime64("1964-05-19"), np.datetime64("1973-04-16")
PER_CARRIER = {"dispenser-670": 670, "dispenser-202": 202, "rocket-220mm-30": 30}
PROFILES = list(PER_CARRIER)

# Land-use classes, in placement order: each is its raw shape minus the classes placed
# before it; forest is whatever is left.
CLASS_ORDER = ["water", "wetland", "village", "farmland", "upland", "forest"]

rng = np.random.default_rng(SEED)
EXTENT = box(0.0, 0.0, W, H)  # all construction in local metres; shifted to UTM at the end
t_start = time.perf_counter()


# ---------------------------------------------------------------------------- helpers
blob = partial(shapes.blob, rng, top_harmonic=5, min_ratio=0.5)
smooth_noise = partial(shapes.smooth_noise, rng)


def meander(waypoints, waves, spacing: float = 250.0, taper: float = 8000.0) -> LineString:
    """A smooth line through ``waypoints`` with sinusoidal lateral wandering.

    ``waves`` is a list of (wavelength, amplitude) in metres; the wandering fades out
    over ``taper`` metres at both ends so the end points stay exactly where given.
    """
    guide = LineString(chaikin(np.array(waypoints, dtype=float), 5))
    length = guide.length
    s = np.linspace(0.0, length, max(3, int(length // spacing) + 1))
    pts = points_along(guide, s)
    tangent = np.gradient(pts, axis=0)
    tangent /= np.hypot(tangent[:, 0], tangent[:, 1])[:, None]
    normal = np.column_stack([-tangent[:, 1], tangent[:, 0]])
    lateral = np.zeros_like(s)
    for wavelength, amplitude in waves:
        lateral += amplitude * rng.uniform(0.7, 1.0) * np.sin(2 * math.pi * s / wavelength + rng.uniform(0, 2 * math.pi))
    lateral *= np.clip(np.minimum(s, length - s) / taper, 0.0, 1.0)
    return LineString(chaikin(pts + normal * lateral[:, None], 2))


def smooth_noise_1d(n: int, sigma: float) -> np.ndarray:
    """Gaussian-smoothed 1-D white noise of length n, unit std."""
    pad = int(3 * sigma) + 1
    white = rng.standard_normal(n + 2 * pad)
    k = np.exp(-0.5 * (np.arange(-pad, pad + 1) / sigma) ** 2)
    field = np.convolve(white, k / k.sum(), mode="same")[pad:-pad]
    return (field - field.mean()) / field.std()


def contoured(z: np.ndarray, level: float, min_area: float, min_hole: float):
    """Polygons where the coarse field z >= level, smoothed, simplified, small bits dropped."""
    return polys_only(shapes.filled_contour(XS, YS, z, level, min_area=min_area, min_hole=min_hole, simplify=SIMPLIFY))


def prep(geom):
    """Clip to the extent on the output precision grid."""
    return shapes.clip(geom, EXTENT, GRID)


def distance_field(lines) -> np.ndarray:
    """Distance (m) from every coarse grid node to the nearest of ``lines`` (via an STRtree of segments)."""
    segments = []
    for line in lines:
        c = shapely.get_coordinates(line)
        segments.append(shapely.linestrings(np.stack([c[:-1], c[1:]], axis=1)))
    tree = shapely.STRtree(np.concatenate(segments))
    _, dist = tree.query_nearest(NODES, return_distance=True, all_matches=False)
    return dist.reshape(GX.shape)


def points_along(line: LineString, s: np.ndarray) -> np.ndarray:
    """Coordinates at distances ``s`` (m) along ``line`` (vectorised linear interpolation)."""
    c = shapely.get_coordinates(line)
    cum = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(c, axis=0).T))])
    return np.column_stack([np.interp(s, cum, c[:, 0]), np.interp(s, cum, c[:, 1])])


def gauss2d(cx, cy, sx, sy, angle_deg):
    """Unnormalised rotated 2-D Gaussian on the coarse grid."""
    a = math.radians(angle_deg)
    dx, dy = GX - cx, GY - cy
    u, v = dx * math.cos(a) + dy * math.sin(a), -dx * math.sin(a) + dy * math.cos(a)
    return np.exp(-0.5 * ((u / sx) ** 2 + (v / sy) ** 2))


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


XS = np.arange(0.0, W + CELL / 2, CELL)
YS = np.arange(0.0, H + CELL / 2, CELL)
GX, GY = np.meshgrid(XS, YS)
NODES = shapely.points(GX.ravel(), GY.ravel())

# ------------------------------------------------------------------------------ rivers
# The main river enters in the north-west and leaves in the south, west of centre.
main_river = meander(
    [(60e3, 430e3), (75e3, 340e3), (150e3, 265e3), (115e3, 185e3), (205e3, 115e3), (300e3, 45e3), (335e3, -30e3)],
    [(45e3, 6e3), (14e3, 1.8e3), (4.5e3, 0.45e3)],
)
# Tributaries from the eastern and northern mountains down to the main river.
TRIBUTARIES = [
    # source and waypoints (local m), fraction along the main river where it joins
    ([(330e3, 395e3), (265e3, 365e3)], 0.13),
    ([(450e3, 392e3), (410e3, 335e3), (320e3, 305e3)], 0.30),
    ([(592e3, 335e3), (525e3, 290e3), (425e3, 262e3), (310e3, 215e3)], 0.45),
    ([(590e3, 215e3), (505e3, 195e3), (420e3, 150e3), (320e3, 150e3)], 0.62),
    ([(545e3, 115e3), (470e3, 62e3), (390e3, 65e3)], 0.80),
    ([(30e3, 215e3), (70e3, 195e3)], 0.52),
    ([(110e3, 10e3), (170e3, 45e3)], 0.86),
]
tributaries = []
for waypoints, frac in TRIBUTARIES:
    mouth = shapely.get_coordinates(main_river.interpolate(frac, normalized=True))[0]
    jittered = [waypoints[0]] + [(px + rng.normal(0, 8e3), py + rng.normal(0, 8e3)) for px, py in waypoints[1:]]
    tributaries.append(meander([*jittered, tuple(mouth)], [(30e3, 4.5e3), (10e3, 1.3e3), (3e3, 0.25e3)], taper=4e3))
# Second-order streams joining the tributaries (parent, fraction along it, source).
streams = []
for parent, frac, source in [(1, 0.45, (350e3, 385e3)), (2, 0.3, (545e3, 370e3)), (2, 0.55, (440e3, 215e3)),
                             (3, 0.3, (565e3, 265e3)), (3, 0.5, (470e3, 100e3)), (4, 0.45, (520e3, 20e3)),
                             (2, 0.75, (350e3, 290e3))]:
    mouth = shapely.get_coordinates(tributaries[parent].interpolate(frac, normalized=True))[0]
    streams.append(meander([source, tuple(mouth)], [(15e3, 2e3), (4e3, 0.4e3)], taper=3e3))


def river_polygon(line: LineString, half_widths: tuple[float, float], chunk: float = 15e3):
    """The river as buffered chunks whose half-width grows from source to mouth (with noise)."""
    n = max(1, int(line.length // chunk))
    pieces = []
    for i in range(n):
        seg = substring(line, i / n * line.length, (i + 1) / n * line.length)
        hw = np.interp((i + 0.5) / n, [0, 1], half_widths) * rng.uniform(0.85, 1.15)
        pieces.append(seg.buffer(hw, quad_segs=3))
    return shapely.simplify(shapely.union_all(pieces), 20.0)


water = shapely.union_all(
    [river_polygon(main_river, (480.0, 560.0))]  # ~1 km wide
    + [river_polygon(t, (70.0, 170.0)) for t in tributaries]
    + [river_polygon(s, (45.0, 80.0)) for s in streams]
)
all_rivers = shapely.union_all([main_river, *tributaries, *streams])
d_main = distance_field([main_river])
d_trib = distance_field([*tributaries, *streams])

# ------------------------------------------------------------------- plains (invented)
# (name, centre (local m), SD along and across (m), orientation (deg), share of the strike records)
river_plain_centre = shapely.get_coordinates(main_river.interpolate(0.40, normalized=True))[0] + np.array([25e3, 0.0])
PLAINS = [
    ("plateau", (255e3, 300e3), 22e3, 13e3, 25.0, 0.070),  # high grass plateau with fields
    ("river plain", tuple(river_plain_centre), 16e3, 10e3, -40.0, 0.050),
    ("southern plain", (395e3, 75e3), 12e3, 9e3, 10.0, 0.030),
]

# -------------------------------------------------------------------------- elevation
# Relative relief: mountains in the east and north, valleys along the rivers.
relief = (
    1.2 * sigmoid((GX - 470e3) / 45e3)
    + 0.6 * sigmoid((GY - 320e3) / 35e3)
    + 0.35 * smooth_noise(GX.shape, 22.0)
    + 0.18 * smooth_noise(GX.shape, 6.0)
    - 0.9 * np.exp(-d_main / 30e3)
    - 0.45 * np.exp(-d_trib / 6e3)
)
plateau = gauss2d(*PLAINS[0][1], 26e3, 16e3, PLAINS[0][4])
relief = relief * (1 - plateau) + 1.2 * plateau  # a flat high plateau

# ---------------------------------------------------------------------------- classes
# Farmland: the main valley, the lower tributary valleys and the plains.
valley = np.maximum.reduce([
    np.exp(-((d_main / 11e3) ** 2)),
    0.8 * np.exp(-((d_trib / 3.5e3) ** 2)) * np.clip((1.0 - relief) / 0.5, 0.0, 1.0),
    1.1 * gauss2d(*PLAINS[1][1], 22e3, 14e3, PLAINS[1][4]),
    1.1 * gauss2d(*PLAINS[2][1], 16e3, 12e3, PLAINS[2][4]),
    0.7 * plateau * (smooth_noise(GX.shape, 3.0) > 0.3),
])
farm_field = valley + 0.28 * smooth_noise(GX.shape, 4.0) - 0.3 * np.clip(relief - 0.9, 0.0, None)
farmland = contoured(farm_field, 0.62, 4e6, 2e6)

wet_field = np.maximum(np.exp(-((d_main / 5e3) ** 2)), 0.7 * np.exp(-((d_trib / 1.5e3) ** 2)) * (relief < 0.4)) \
    * (1.0 + 0.6 * smooth_noise(GX.shape, 2.5))
wetland = contoured(wet_field, 1.0, 1.5e6, 1e6)

upland_field = relief + 0.15 * smooth_noise(GX.shape, 3.0)
upland = contoured(upland_field, float(np.quantile(upland_field, 0.90)), 6e6, 3e6)
upland = shapely.union_all([upland, contoured(plateau + 0.25 * smooth_noise(GX.shape, 5.0), 0.45, 20e6, 4e6)])

# Villages: a few hundred, mostly in the valleys and plains, some in the hills.
village_weight = (
    0.25
    + 6.0 * (farm_field > 0.62)
    + 1.5 * (d_trib < 4e3)
    + 1.5 * (d_main < 12e3)
) * (d_main > 1.5e3) * (d_trib > 600.0) * np.where(relief > 1.3, 0.3, 1.0)
village_weight[[0, -1], :] = village_weight[:, [0, -1]] = 0.0
p = village_weight.ravel() / village_weight.sum()
candidates = rng.choice(p.size, size=6000, p=p)
cand_xy = np.column_stack([GX.ravel()[candidates], GY.ravel()[candidates]]) + rng.uniform(-500, 500, (6000, 2))
centres: list[np.ndarray] = []
for xy in cand_xy:
    if not centres or np.min(np.hypot(*(np.array(centres) - xy).T)) >= 3000.0:
        centres.append(xy)
    if len(centres) >= 320:
        break
village_blobs = [
    blob(x, y, float(np.clip(rng.lognormal(math.log(420.0), 0.35), 250.0, 1000.0)), 0.22, 24,
         stretch=rng.uniform(1.0, 1.5), angle_deg=rng.uniform(0, 180))
    for x, y in centres
]

# --------------------------------------------------------------------- the partition
raw = {"water": water, "wetland": wetland, "village": shapely.union_all(village_blobs),
       "farmland": farmland, "upland": upland}
layers, placed = shapes.place(raw, Polygon(), GRID, prep)
layers["forest"] = polys_only(shapely.difference(EXTENT, placed, grid_size=GRID))
layers = shapes.rebuild_partition(layers, EXTENT, GRID)

rows = []
for order, cls in enumerate(CLASS_ORDER):
    for part in shapely.get_parts(layers[cls]):
        if part.geom_type == "Polygon" and part.area > 0.0:
            rows.append((order, cls, shapely.normalize(shapes.shift(part, X0, Y0, 0))))
rows.sort(key=lambda r: (r[0], r[2].bounds[0], r[2].bounds[1], r[2].area))
land_use = gpd.GeoDataFrame({"class": [r[1] for r in rows]}, geometry=[r[2] for r in rows], crs=CRS)
assert land_use.is_valid.all(), "invalid land-use geometry"
assert abs(land_use.area.sum() - W * H) < 1.0, "land use does not cover the extent exactly"
assert tuple(land_use.total_bounds) == (X0, Y0, X0 + W, Y0 + H)

# ---------------------------------------------------------------- supply corridors
# An invented trail network: a north-south trunk through the eastern hills, branches
# from passes on the eastern edge, a northern route to the plateau, a western branch to
# the river and a southern spur.
trunk = meander([(585e3, 375e3), (525e3, 335e3), (470e3, 255e3), (500e3, 170e3), (450e3, 90e3)],
                [(25e3, 2.5e3), (8e3, 0.6e3), (3e3, 0.12e3)], taper=5e3)


def on(line: LineString, frac: float) -> tuple[float, float]:
    return tuple(shapely.get_coordinates(line.interpolate(frac, normalized=True))[0])


def inside(line: LineString) -> LineString:
    """The longest part of ``line`` inside the extent (less a 500 m margin)."""
    parts = shapely.get_parts(shapely.intersection(line, EXTENT.buffer(-500.0)))
    return max((p for p in parts if p.geom_type == "LineString"), key=lambda p: p.length)


CORRIDOR_WAVES = [(25e3, 2.5e3), (8e3, 0.6e3), (3e3, 0.12e3)]
corridors = {
    "trunk": trunk,
    "pass-north": meander([(600e3, 275e3), (555e3, 255e3), on(trunk, 0.36)], CORRIDOR_WAVES),
    "pass-south": meander([(600e3, 160e3), (560e3, 135e3), on(trunk, 0.68)], CORRIDOR_WAVES),
    "northern-route": meander([on(trunk, 0.12), (430e3, 325e3), (330e3, 300e3), (255e3, 300e3), (215e3, 295e3)],
                              CORRIDOR_WAVES),
    "western-branch": meander([on(trunk, 0.58), (400e3, 160e3), (330e3, 120e3), (275e3, 75e3)], CORRIDOR_WAVES),
    "southern-spur": meander([on(trunk, 0.9), (500e3, 40e3), (560e3, 15e3), (600e3, 5e3)], CORRIDOR_WAVES),
}
corridors = {k: inside(v) for k, v in corridors.items()}
# Relative intensity per km of corridor (made up).
CORRIDOR_INTENSITY = {"trunk": 1.6, "pass-north": 1.8, "pass-south": 1.5, "northern-route": 0.9,
                      "western-branch": 0.8, "southern-spur": 0.7}
junctions = shapely.union_all([shapely.intersection(a, b) for i, a in enumerate(corridors.values())
                               for j, b in enumerate(corridors.values()) if i < j]
                              + [shapely.intersection(c, all_rivers) for c in corridors.values()])

# --------------------------------------------------------------- strike records
# Shares of the records: 80 % corridors, 15 % plains, 5 % scattered.
SHARE_CORRIDOR, SHARE_PLAINS = 0.80, sum(p[5] for p in PLAINS)
PROFILE_MIX = {  # record shares per component: dispenser-670, dispenser-202, rocket-220mm-30
    "corridor": [0.76, 0.235, 0.005],
    "plain": [0.60, 0.30, 0.10],
    "scattered": [0.72, 0.26, 0.02],
}
CARRIER_P = {  # P(carriers = 1..8)
    "dispenser-670": [0.10, 0.20, 0.22, 0.18, 0.12, 0.08, 0.06, 0.04],
    "dispenser-202": [0.14, 0.22, 0.22, 0.16, 0.10, 0.07, 0.05, 0.04],
    "rocket-220mm-30": [0.05, 0.10, 0.15, 0.20, 0.15, 0.15, 0.10, 0.10],
}
component_names = ["corridor"] + [p[0] for p in PLAINS] + ["scattered"]
component_p = [SHARE_CORRIDOR] + [p[5] for p in PLAINS] + [1.0 - SHARE_CORRIDOR - SHARE_PLAINS]

# Draw a surplus of records, then keep the first n whose submunitions reach the total.
SURPLUS = 250_000
component = rng.choice(len(component_names), size=SURPLUS, p=component_p)
kind = np.where(component == 0, "corridor", np.where(component == len(component_names) - 1, "scattered", "plain"))
profile_idx = np.empty(SURPLUS, dtype=int)
for k, mix in PROFILE_MIX.items():
    m = kind == k
    profile_idx[m] = rng.choice(3, size=m.sum(), p=mix)
carriers = np.empty(SURPLUS, dtype=int)
for i, prof in enumerate(PROFILES):
    m = profile_idx == i
    carriers[m] = 1 + rng.choice(8, size=m.sum(), p=CARRIER_P[prof])
per_carrier = np.array([PER_CARRIER[p] for p in PROFILES])[profile_idx]
n = int(np.searchsorted(np.cumsum(carriers * per_carrier), TOTAL_SUBMUNITIONS)) + 1
component, kind, profile_idx, carriers, per_carrier = component[:n], kind[:n], profile_idx[:n], carriers[:n], per_carrier[:n]

# Dates: an annual build-up peaking in 1969-71 and a dry-season (November-April) peak;
# plains activity peaks a little earlier and is less seasonal than corridor interdiction.
days = np.arange(FIRST_DAY, LAST_DAY + 1)
years = days.astype("datetime64[Y]").astype(int) + 1970
doy = (days - days.astype("datetime64[Y]")).astype(int)
t_year = years + (doy + 0.5) / 365.25
YEAR_WEIGHTS = {  # relative activity at mid-year (made up)
    "corridor": [0.3, 1.0, 2.0, 3.0, 5.0, 6.0, 6.5, 6.5, 4.5, 1.5],
    "plain": [0.5, 0.8, 1.0, 1.5, 3.5, 7.5, 6.0, 4.0, 3.5, 1.0],
}
YEAR_WEIGHTS["scattered"] = list((np.array(YEAR_WEIGHTS["corridor"]) + np.array(YEAR_WEIGHTS["plain"])) / 2)
SEASONAL_AMPLITUDE = {"corridor": 0.6, "plain": 0.3, "scattered": 0.45}
date_idx = np.empty(n, dtype=int)
for k in ("corridor", "plain", "scattered"):
    w = np.interp(t_year, np.arange(1964, 1974) + 0.5, YEAR_WEIGHTS[k])
    w = w * (1.0 + SEASONAL_AMPLITUDE[k] * np.cos(2 * math.pi * (doy - 20) / 365.25))  # peak late January
    m = kind == k
    date_idx[m] = rng.choice(len(days), size=m.sum(), p=w / w.sum())
dates = days[date_idx]
strike_year = years[date_idx]

# Aim points and headings.
x = np.empty(n)
y = np.empty(n)
azimuth = np.empty(n)

# Corridors: density along each varies smoothly, with hot spots at junctions and river
# crossings; the cross-track scatter (normal) has an SD of 1-5 km that varies along it.
ci = np.flatnonzero(kind == "corridor")
names = list(corridors)
weights = np.array([corridors[k].length * CORRIDOR_INTENSITY[k] for k in names])
which = rng.choice(len(names), size=len(ci), p=weights / weights.sum())
for c, name in enumerate(names):
    line = corridors[name]
    idx = ci[which == c]
    s = np.arange(0.0, line.length, 500.0)
    density = np.exp(0.7 * smooth_noise_1d(len(s), 30.0))  # 15 km correlation
    for pt in shapely.get_parts(shapely.intersection(junctions, line.buffer(10.0))):
        if pt.geom_type == "Point":
            density += rng.uniform(2.0, 5.0) * np.exp(-0.5 * ((s - line.project(pt)) / 2500.0) ** 2)
    cross_sd = 1000.0 + 4000.0 * sigmoid(1.5 * smooth_noise_1d(len(s), 40.0))
    cdf = np.cumsum(density) / density.sum()
    along = np.interp(rng.uniform(size=len(idx)), np.concatenate([[0.0], cdf]), np.concatenate([s[:1], s + 500.0]))
    along = np.clip(along, 0.0, line.length)
    p0 = points_along(line, np.clip(along - 50.0, 0.0, line.length))
    p1 = points_along(line, np.clip(along + 50.0, 0.0, line.length))
    tangent = (p1 - p0) / np.hypot(*(p1 - p0).T)[:, None]
    normal = np.column_stack([-tangent[:, 1], tangent[:, 0]])
    offset = rng.normal(0.0, 1.0, len(idx)) * np.interp(along, s, cross_sd)
    pos = (p0 + p1) / 2 + normal * offset[:, None]
    x[idx], y[idx] = pos[:, 0], pos[:, 1]
    heading = np.degrees(np.arctan2(tangent[:, 0], tangent[:, 1]))  # clockwise from grid north
    azimuth[idx] = heading + 180.0 * rng.integers(0, 2, len(idx)) + rng.normal(0.0, 20.0, len(idx))

# Plains: rotated 2-D Gaussian clusters with a preferred attack heading each.
for c, (_name, (cx, cy), sx, sy, angle, _share) in enumerate(PLAINS, start=1):
    idx = np.flatnonzero(component == c)
    u, v = rng.normal(0.0, sx, len(idx)), rng.normal(0.0, sy, len(idx))
    a = math.radians(angle)
    x[idx], y[idx] = cx + u * math.cos(a) - v * math.sin(a), cy + u * math.sin(a) + v * math.cos(a)
    azimuth[idx] = rng.uniform(0.0, 360.0) + rng.normal(0.0, 40.0, len(idx))

# Scattered: anywhere.
idx = np.flatnonzero(kind == "scattered")
x[idx], y[idx] = rng.uniform(0.0, W, len(idx)), rng.uniform(0.0, H, len(idx))
azimuth[idx] = rng.uniform(0.0, 360.0, len(idx))

# Keep every aim point inside the extent: redraw the few outside around their own
# corridor or cluster (by jittering a random in-extent record of the same component).
outside = (x < 0) | (x > W) | (y < 0) | (y > H)
while outside.any():
    for c in np.unique(component[outside]):
        bad = np.flatnonzero(outside & (component == c))
        good = np.flatnonzero(~outside & (component == c))
        donor = rng.choice(good, size=len(bad))
        x[bad] = x[donor] + rng.normal(0.0, 1500.0, len(bad))
        y[bad] = y[donor] + rng.normal(0.0, 1500.0, len(bad))
        azimuth[bad] = azimuth[donor] + rng.normal(0.0, 10.0, len(bad))
    outside = (x < 0) | (x > W) | (y < 0) | (y > H)

# Dud rates: per-profile means, a small per-year offset, record-to-record variation.
DUD_BASE = np.array([0.205, 0.17, 0.23])  # dispenser-670, dispenser-202, rocket-220mm-30 (made up)
year_offset = dict(zip(range(1964, 1974), rng.normal(0.0, 0.012, 10)))
dud_mean = DUD_BASE[profile_idx] + np.vectorize(year_offset.get)(strike_year) + rng.normal(0.0, 0.035, n)
dud_mean = np.round(np.clip(dud_mean, 0.05, 0.35), 3)
dud_spread = np.minimum(rng.uniform(0.02, 0.08, n), 0.9 * np.sqrt(dud_mean * (1 - dud_mean)))
dud_spread = np.floor(dud_spread * 1000.0) / 1000.0

strikes = pd.DataFrame({
    "date": dates.astype(str),
    "profile": np.array(PROFILES)[profile_idx],
    "carriers": carriers,
    "x": np.round(x + X0, 2),
    "y": np.round(y + Y0, 2),
    "azimuth_deg": np.round(np.mod(azimuth, 360.0), 1) % 360.0,
    "dud_mean": dud_mean,
    "dud_spread": dud_spread,
})
strikes = strikes.sort_values(["date", "x", "y", "profile", "carriers"], kind="stable").reset_index(drop=True)
strikes.insert(0, "id", [f"N{i:06d}" for i in range(1, len(strikes) + 1)])

# Sanity checks on the brief's constraints.
assert strikes["x"].between(X0, X0 + W).all() and strikes["y"].between(Y0, Y0 + H).all()
assert strikes["carriers"].between(1, 8).all()
assert strikes["dud_mean"].between(0.05, 0.35).all() and strikes["dud_spread"].between(0.02, 0.08).all()
assert (strikes["dud_spread"] < 0.9 * np.sqrt(strikes["dud_mean"] * (1 - strikes["dud_mean"]))).all()
submunitions = strikes["carriers"] * strikes["profile"].map(PER_CARRIER)
assert abs(submunitions.sum() / TOTAL_SUBMUNITIONS - 1) < 0.02

# -------------------------------------------------------------------------------- write
shapes.write_gpkg(GPKG, {"land_use": land_use}, "1973-04-17T00:00:00.000Z")
# gzip without a time stamp or file name in the header, so the bytes depend only on the data.
text = strikes.to_csv(index=False, lineterminator="\n")
buf = io.BytesIO()
with gzip.GzipFile(filename="", mode="wb", fileobj=buf, compresslevel=9, mtime=0) as gz:
    gz.write(text.encode("ascii"))
CSV.write_bytes(buf.getvalue())

# ------------------------------------------------------------------------------ summary
print("SYNTHETIC national campaign (invented country, not real mission records)")
print(f"wrote {GPKG.name}: {GPKG.stat().st_size / 1e6:.2f} MB, {len(land_use)} polygons, CRS {CRS}, "
      f"extent x {X0:.0f}..{X0 + W:.0f}, y {Y0:.0f}..{Y0 + H:.0f}")
area = land_use.assign(km2=land_use.area / 1e6).groupby("class").agg(polygons=("km2", "size"), km2=("km2", "sum"))
area["share_%"] = 100 * area["km2"] / area["km2"].sum()
print(area.round(1).reindex(CLASS_ORDER).to_string())
print(f"wrote {CSV.name}: {CSV.stat().st_size / 1e6:.2f} MB, {len(strikes)} rows, "
      f"{submunitions.sum():,} submunitions, dates {strikes['date'].iloc[0]} .. {strikes['date'].iloc[-1]}")
print("corridor lengths (km): " + ", ".join(f"{k} {v.length / 1e3:.0f}" for k, v in corridors.items()))
print(f"components (rows): corridor {np.mean(kind == 'corridor'):.1%}, plains {np.mean(kind == 'plain'):.1%}, "
      f"scattered {np.mean(kind == 'scattered'):.1%}")
by_profile = pd.DataFrame({"rows": strikes.groupby("profile").size(),
                           "submunitions": submunitions.groupby(strikes["profile"]).sum()}).reindex(PROFILES)
by_profile["rows_%"] = 100 * by_profile["rows"] / by_profile["rows"].sum()
by_profile["submunitions_%"] = 100 * by_profile["submunitions"] / by_profile["submunitions"].sum()
by_profile["mean_dud"] = strikes.groupby("profile")["dud_mean"].mean().reindex(PROFILES)
print(by_profile.round(3).to_string())
year = strikes["date"].str[:4].astype(int)
by_year = pd.DataFrame({"rows": strikes.groupby(year).size(), "submunitions": submunitions.groupby(year).sum()})
by_year["mean_dud"] = strikes.groupby(year)["dud_mean"].mean().round(3)
print(by_year.to_string())
month = strikes["date"].str[5:7].astype(int)
print(f"dry season (Nov-Apr) share of rows: {np.isin(month, [11, 12, 1, 2, 3, 4]).mean():.1%}; "
      f"mean dud_mean {strikes['dud_mean'].mean():.3f}; took {time.perf_counter() - t_start:.1f} s")
