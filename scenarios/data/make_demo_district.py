"""Generate the synthetic demo district ``demo-district.gpkg`` (next to this script).

The district is invented: a 6 x 6 km rural area in EPSG:32634 (UTM 34N), extent
x 500000..506000, y 4700000..4706000 m, with a meandering river and wetlands, three
villages joined by roads, forest on the north-eastern hills, a patchwork of farm
fields, a few orchards, and grassland filling the rest. No real place is depicted.

Layers written:

* ``land_use``  polygons with ``class`` (farmland, orchard, residential, forest, water,
  wetland, road, grassland) and ``name``; they partition the extent exactly
  (no gaps, no overlaps; coordinates on a 0.1 m grid).
* ``buildings`` house footprints (``kind`` = "house") inside the villages.

Run from the repository root::

    python scenarios/data/make_demo_district.py

The output is deterministic (fixed seed, fixed rounding, sorted features).
"""

from __future__ import annotations

import itertools
import math
from functools import partial
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
import shapes  # scenarios/data/shapes.py, beside this script
from shapely import affinity
from shapely.geometry import LineString, Point, Polygon, box
from shapes import chaikin, polys_only

SEED = 20240301
CRS = "EPSG:32634"
X0, Y0 = 500000.0, 4700000.0  # south-west corner of the extent
SIZE = 6000.0  # m, the extent is SIZE x SIZE
GRID = 0.1  # m, coordinate precision of every output geometry
SIMPLIFY = 1.0  # m, simplification tolerance of generated shapes
OUT = Path(__file__).resolve().parent / "demo-district.gpkg"

# Order in which classes are placed: each class is its raw shape minus everything
# placed before it; grassland is whatever is left at the end.
CLASS_ORDER = ["road", "water", "wetland", "residential", "orchard", "forest", "farmland", "grassland"]

rng = np.random.default_rng(SEED)

# All construction happens in local metres (0..SIZE); shifted to UTM at the end.
EXTENT = box(0.0, 0.0, SIZE, SIZE)


# ---------------------------------------------------------------------------- helpers
blob = partial(shapes.blob, rng, top_harmonic=6, min_ratio=0.45)


def prep(geom):
    """Simplify to ~1 m and clip to the extent on the output precision grid."""
    return shapes.clip(geom, EXTENT, GRID, SIMPLIFY)


def wiggly_line(waypoints: list[tuple[float, float]], jitter: float, spacing: float = 120.0) -> LineString:
    """A road-like line through the waypoints, with small random bends, smoothed."""
    pts = [np.asarray(waypoints[0], float)]
    for a, b in itertools.pairwise(waypoints):
        a, b = np.asarray(a, float), np.asarray(b, float)
        d = b - a
        length = float(np.hypot(*d))
        nseg = max(1, int(length // spacing))
        normal = np.array([-d[1], d[0]]) / length
        for i in range(1, nseg):
            pts.append(a + d * i / nseg + normal * rng.normal(0.0, jitter))
        pts.append(b)
    return LineString(chaikin(np.array(pts), 3))


def drop_small(geom, min_area: float, min_hole: float = 0.0):
    """Drop polygon parts smaller than min_area and holes smaller than min_hole (m2)."""
    keep = []
    for part in shapely.get_parts(geom):
        if part.geom_type != "Polygon" or part.area < min_area:
            continue
        holes = [h for h in part.interiors if Polygon(h).area >= min_hole]
        keep.append(Polygon(part.exterior, holes))
    return shapely.union_all(keep) if keep else Polygon()


# ------------------------------------------------------------------------------ river
# Flows from the west (north of centre) to the east-south-east, meandering.
s = np.arange(-400.0, SIZE + 400.0, 10.0)  # along-valley coordinate
lateral = np.zeros_like(s)
for wavelength, amplitude in [(2600.0, 260.0), (1300.0, 150.0), (700.0, 60.0), (380.0, 18.0)]:
    lateral += amplitude * rng.uniform(0.7, 1.0) * np.sin(2 * math.pi * s / wavelength + rng.uniform(0, 2 * math.pi))
valley_start, valley_end = np.array([-400.0, 3950.0]), np.array([SIZE + 400.0, 2150.0])
axis = (valley_end - valley_start) / np.hypot(*(valley_end - valley_start))
axis_normal = np.array([-axis[1], axis[0]])
t = (s - s[0]) / (s[-1] - s[0])
centre = valley_start + np.outer(t, valley_end - valley_start) + np.outer(lateral, axis_normal)
centre = chaikin(centre, 2)
river_line = LineString(centre)
# Width varies smoothly between ~30 and ~60 m.
tangent = np.gradient(centre, axis=0)
tangent /= np.hypot(tangent[:, 0], tangent[:, 1])[:, None]
normal = np.column_stack([-tangent[:, 1], tangent[:, 0]])
u = np.linspace(0, 1, len(centre))
width = 45.0 + 9.0 * np.sin(2 * math.pi * (3.1 * u + rng.uniform())) + 6.0 * np.sin(2 * math.pi * (7.3 * u + rng.uniform()))
left = centre + normal * (width[:, None] / 2)
right = centre - normal * (width[:, None] / 2)
river = shapely.make_valid(Polygon(np.vstack([left, right[::-1]])))

# An oxbow lake and a farm pond.
oxbow_arc = np.linspace(1.05 * math.pi, 1.95 * math.pi, 40)
ox_c = np.array(river_line.interpolate(0.62, normalized=True).coords[0]) + axis_normal * -200.0
oxbow = LineString(np.column_stack([ox_c[0] + 170 * np.cos(oxbow_arc), ox_c[1] + 130 * np.sin(oxbow_arc)])).buffer(14.0)
pond = blob(2900.0, 1150.0, 28.0, 0.15, 48)
water = shapely.union_all([river, oxbow, pond])

# ---------------------------------------------------------------------------- wetland
wet = [oxbow.buffer(35.0)]
for frac in [0.08, 0.2, 0.36, 0.5, 0.71, 0.86]:
    p = np.array(river_line.interpolate(frac, normalized=True).coords[0])
    side = rng.choice([-1.0, 1.0])
    off = side * axis_normal * rng.uniform(60.0, 140.0)
    wet.append(blob(p[0] + off[0], p[1] + off[1], rng.uniform(70.0, 170.0), 0.3, 64,
                    stretch=rng.uniform(1.2, 2.0), angle_deg=math.degrees(math.atan2(axis[1], axis[0]))))
wetland = shapely.union_all(wet)

# --------------------------------------------------------------------------- villages
VILLAGES = [
    # name, centre (local m), radius, elongation, orientation (deg)
    ("Village A", (1550.0, 1750.0), 225.0, 1.25, 10.0),
    ("Village B", (3950.0, 4150.0), 240.0, 1.25, -35.0),
    ("Village C", (4750.0, 1050.0), 190.0, 1.3, 70.0),
]
village_blobs = [blob(c[0], c[1], r, 0.2, 96, stretch=e, angle_deg=a) for _, c, r, e, a in VILLAGES]
village_centres = {name: c for name, c, *_ in VILLAGES}

# ------------------------------------------------------------------------------ roads
A, B, C = (village_centres[k] for k in ("Village A", "Village B", "Village C"))
main_roads = [
    wiggly_line([(-200.0, 1450.0), (700.0, 1600.0), A, (3100.0, 1350.0), C, (6200.0, 850.0)], 25.0),  # east-west trunk road
    wiggly_line([A, (2050.0, 2500.0), (2700.0, 3300.0), (3400.0, 3850.0), B], 22.0),  # A - B, bridges the river
    wiggly_line([B, (4100.0, 5000.0), (4350.0, 6200.0)], 25.0),  # B - north
    wiggly_line([B, (5000.0, 4350.0), (6200.0, 4500.0)], 25.0),  # B - east
]
minor_roads = [
    wiggly_line([A, (1400.0, 800.0), (1250.0, -200.0)], 30.0),  # A - south
    wiggly_line([C, (4850.0, 400.0), (5000.0, -200.0)], 25.0),  # C - south
    wiggly_line([B, (3000.0, 4500.0), (1600.0, 4800.0), (-200.0, 5000.0)], 30.0),  # B - west
    wiggly_line([C, (5100.0, 1900.0), (5300.0, 2650.0), (5650.0, 3400.0), (5600.0, 4420.0)], 25.0),  # C - north to the B - east road
    wiggly_line([A, (700.0, 2500.0), (200.0, 3000.0), (-200.0, 3250.0)], 30.0),  # A - north-west
]
# Village streets: side streets branching off the through-roads inside each village,
# roughly at right angles, with a bend.
streets = []
through = shapely.union_all(main_roads + minor_roads)
for (_name, (cx, cy), r, e, a), vb in zip(VILLAGES, village_blobs):
    inside = [g for g in shapely.get_parts(shapely.intersection(through, vb)) if g.geom_type == "LineString"]
    inside.sort(key=lambda g: -g.length)
    n_streets = 5 if r > 220 else 3
    for k in range(n_streets):
        seg = inside[k % min(len(inside), 3)]
        d = seg.length * rng.uniform(0.2, 0.8)
        p0, p1 = seg.interpolate(max(d - 3.0, 0.0)), seg.interpolate(min(d + 3.0, seg.length))
        base = math.atan2(p1.y - p0.y, p1.x - p0.x) + (1 if k % 2 else -1) * math.radians(90.0 + rng.uniform(-15, 15))
        length = r * rng.uniform(0.55, 0.9)
        start = seg.interpolate(d)
        mid = (start.x + 0.5 * length * math.cos(base), start.y + 0.5 * length * math.sin(base))
        bend = base + math.radians(rng.uniform(-25, 25))
        end = (mid[0] + 0.5 * length * math.cos(bend), mid[1] + 0.5 * length * math.sin(bend))
        streets.append(wiggly_line([(start.x, start.y), mid, end], 6.0, 50.0))
road_lines = main_roads + minor_roads + streets
road = shapely.union_all(
    [ln.buffer(5.5, quad_segs=4) for ln in main_roads]  # 11 m wide
    + [ln.buffer(4.5, quad_segs=4) for ln in minor_roads + streets]  # 9 m wide
)

# ----------------------------------------------------------------------------- forest
# Smoothed noise plus a trend rising to the north-east: forest on the hills there.
n_grid = 301  # 20 m spacing
xs = np.linspace(0.0, SIZE, n_grid)
field = shapes.smooth_noise(rng, (n_grid, n_grid), 18.0, periodic=True) + 0.35 * shapes.smooth_noise(
    rng, (n_grid, n_grid), 4.0, periodic=True)
gx, gy = np.meshgrid(xs, xs)
field += 2.4 * ((gx + 1.3 * gy) / (2.3 * SIZE) - 0.62) * 2.0
forest = shapes.filled_contour(xs, xs, field, 0.55)
keep_out = shapely.union_all([vb.buffer(220.0) for vb in village_blobs] + [river.buffer(25.0)])
forest = drop_small(shapely.difference(forest, keep_out), 1.5e4, 5e3)
# A few small woodlots in the farmland.
woodlots = [blob(x, y, rng.uniform(50.0, 110.0), 0.3, 48) for x, y in [(600.0, 400.0), (2500.0, 700.0), (3350.0, 2650.0), (700.0, 3600.0)]]
forest = shapely.union_all([forest] + woodlots)

# ---------------------------------------------------------------------------- orchard
orchards = []
for _name, (cx, cy), r, e, a in VILLAGES:
    for _ in range(2):
        for _attempt in range(20):
            ang = rng.uniform(0, 2 * math.pi)
            dist = r * e + rng.uniform(80.0, 250.0)
            ox, oy = cx + dist * math.cos(ang), cy + dist * math.sin(ang)
            w, h = rng.uniform(150.0, 300.0), rng.uniform(110.0, 200.0)
            rect = affinity.rotate(box(ox - w / 2, oy - h / 2, ox + w / 2, oy + h / 2), a + rng.uniform(-15, 15), origin=(ox, oy))
            if not rect.intersects(river.buffer(80.0)) and rect.within(EXTENT.buffer(-50.0)):
                orchards.append(rect)
                break
orchard = shapely.union_all(orchards)

# --------------------------------------------------------------------------- farmland
# Fields: in each of a few zones (Voronoi cells) a rotated "brick" pattern of parcels:
# strips 100-300 m deep cut into parcels 120-400 m long, boundaries slightly tilted.
zone_seeds = shapely.multipoints(np.column_stack([rng.uniform(300, SIZE - 300, 8), rng.uniform(300, SIZE - 300, 8)]))
zones = [shapely.intersection(z, EXTENT) for z in shapely.get_parts(shapely.voronoi_polygons(zone_seeds, extend_to=EXTENT))]
parcels = []
for zone in zones:
    ang = rng.uniform(-35.0, 35.0)
    cxz, cyz = zone.centroid.x, zone.centroid.y
    half = 0.75 * math.hypot(zone.bounds[2] - zone.bounds[0], zone.bounds[3] - zone.bounds[1]) + 200.0
    v_edges = [-half]
    while v_edges[-1] < half:
        v_edges.append(v_edges[-1] + rng.uniform(100.0, 300.0))
    slopes = rng.uniform(-0.04, 0.04, len(v_edges))
    for j in range(len(v_edges) - 1):
        (lo, lo_slope), (hi, hi_slope) = (v_edges[j], slopes[j]), (v_edges[j + 1], slopes[j + 1])  # strip edges
        u_bot, u_top = -half, -half
        while u_bot < half:
            length = rng.uniform(120.0, 400.0)
            tilt = rng.uniform(-25.0, 25.0)
            nb, nt = u_bot + length, u_bot + length + tilt
            quad = Polygon([(u_bot, lo + lo_slope * u_bot), (nb, lo + lo_slope * nb), (nt, hi + hi_slope * nt),
                            (u_top, hi + hi_slope * u_top)])
            u_bot, u_top = nb, nt
            quad = affinity.translate(affinity.rotate(quad, ang, origin=(0, 0)), cxz, cyz)
            if not quad.intersects(zone):
                continue
            field_poly = shapely.intersection(quad, zone).buffer(-2.5, join_style="mitre")  # field margins
            if not field_poly.is_empty:
                parcels.append(field_poly)
# Meadows stay grassland: the floodplain and some parcels (pasture, fallow).
floodplain = shapely.union_all([river_line.buffer(110.0), wetland.buffer(40.0)])
parcels = [p for p in parcels if rng.uniform() > 0.13]

# --------------------------------------------------------------------- the partition
raw = {
    "road": road,
    "water": water,
    "wetland": wetland,
    "residential": shapely.union_all(village_blobs),
    "orchard": orchard,
    "forest": forest,
}
layers, placed = shapes.place(raw, Polygon(), GRID, prep)

available = polys_only(shapely.difference(EXTENT, shapely.union(placed, prep(floodplain), grid_size=GRID), grid_size=GRID))
pieces = shapely.intersection(np.array([prep(p) for p in parcels], dtype=object), available, grid_size=GRID)
farm_parts = []
for piece in pieces:
    for part in shapely.get_parts(polys_only(piece)):
        # keep real fields: not tiny, not sliver-thin
        if part.area >= 3000.0 and part.area / part.length >= 12.0:
            farm_parts.append(part)
farmland = shapely.multipolygons(farm_parts)
layers["farmland"] = farmland
placed = shapely.union(placed, farmland, grid_size=GRID)
layers["grassland"] = polys_only(shapely.difference(EXTENT, placed, grid_size=GRID))

layers = shapes.rebuild_partition(layers, EXTENT, GRID)


# ------------------------------------------------------------------------- buildings
residential = layers["residential"]
res_inner = residential.buffer(-1.0)
houses: list[Polygon] = []
house_union = Polygon()


def try_house(cx: float, cy: float, angle_deg: float) -> None:
    global house_union
    length, depth = rng.uniform(9.0, 20.0), rng.uniform(8.0, 13.0)
    h = affinity.rotate(box(cx - length / 2, cy - depth / 2, cx + length / 2, cy + depth / 2), angle_deg, origin=(cx, cy))
    h = shapely.set_precision(h, GRID)
    if h.within(res_inner) and (house_union.is_empty or h.distance(house_union) >= 4.0):
        houses.append(h)
        house_union = shapely.union(house_union, h)


for ln in road_lines:
    inside = shapely.intersection(ln, residential.buffer(30.0))
    for seg in shapely.get_parts(inside):
        if seg.geom_type != "LineString" or seg.length < 20.0:
            continue
        d = rng.uniform(0.0, 15.0)
        while d < seg.length:
            p0, p1 = seg.interpolate(max(d - 2.0, 0.0)), seg.interpolate(min(d + 2.0, seg.length))
            ang = math.atan2(p1.y - p0.y, p1.x - p0.x)
            nx_, ny_ = -math.sin(ang), math.cos(ang)
            p = seg.interpolate(d)
            for side in (-1.0, 1.0):
                if rng.uniform() < 0.9:
                    off = rng.uniform(16.0, 24.0)
                    try_house(p.x + side * off * nx_, p.y + side * off * ny_, math.degrees(ang) + rng.normal(0.0, 4.0))
            d += rng.uniform(20.0, 30.0)
# Farm buildings and back-lot houses between the streets.
minx, miny, maxx, maxy = residential.bounds
for _ in range(2500):
    x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
    if not residential.contains(Point(x, y)):
        continue
    nearest = min(road_lines, key=lambda ln: ln.distance(Point(x, y)))
    if nearest.distance(Point(x, y)) < 45.0:
        continue
    dpos = nearest.project(Point(x, y))
    q0, q1 = nearest.interpolate(max(dpos - 2, 0)), nearest.interpolate(dpos + 2)
    try_house(x, y, math.degrees(math.atan2(q1.y - q0.y, q1.x - q0.x)) + rng.normal(0.0, 8.0))
    if len(houses) >= 420:
        break


# ----------------------------------------------------------------------------- write
names = {"water": "River"}
rows = []
for order, cls in enumerate(CLASS_ORDER):
    for part in shapely.get_parts(layers[cls]):
        if part.is_empty or part.area <= 0.0:
            continue
        name = names.get(cls, "")
        if cls == "residential":
            name = next((v[0] for v, vb in zip(VILLAGES, village_blobs) if vb.intersects(part)), "")
        if cls == "water" and not part.intersects(river):
            name = "Pond" if part.area < 1e4 else "Oxbow lake"
        rows.append((order, cls, name, shapely.normalize(shapes.shift(part, X0, Y0, 1))))
rows.sort(key=lambda r: (r[0], round(r[3].bounds[0], 1), round(r[3].bounds[1], 1), round(r[3].area, 1)))
land_use = gpd.GeoDataFrame(
    {"class": [r[1] for r in rows], "name": [r[2] for r in rows]},
    geometry=[r[3] for r in rows],
    crs=CRS,
)

house_geoms = sorted((shapely.normalize(shapes.shift(h, X0, Y0, 1)) for h in houses), key=lambda g: (round(g.bounds[0], 1), round(g.bounds[1], 1)))
buildings = gpd.GeoDataFrame({"kind": ["house"] * len(house_geoms)}, geometry=house_geoms, crs=CRS)

shapes.write_gpkg(OUT, {"land_use": land_use, "buildings": buildings}, "2024-03-01T00:00:00.000Z")

summary = land_use.assign(area_ha=land_use.area / 1e4).groupby("class")["area_ha"].sum().round(1)
print(f"wrote {OUT} ({OUT.stat().st_size / 1e6:.2f} MB): {len(land_use)} land-use polygons, {len(buildings)} buildings")
print(summary.to_string())
