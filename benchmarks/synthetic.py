"""Synthetic inputs: a square study area, a strike table of rocket-like strikes, land-use polygons.

The study area is 10 x 10 km (UTM zone 34N, as the demo district) rasterised at any number of
cells per side; strikes aim at its central half so nearly every remnant lands on the grid.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import geopandas
import numpy as np
import shapely
from simulator.kernels import strike_table as T

from simulator.inputs.grid import Grid
from simulator.inputs.kernel_inputs import KernelInputs, disc_half_widths
from simulator.inputs.land_use import LandUseLayer, LandUseReport

CRS = "EPSG:32634"
X0, Y0 = 500_000.0, 4_710_000.0  # upper-left corner (m)
SIDE_M = 10_000.0  # study area side (m)
CLASSES = ("residential", "road", "farmland", "orchard", "grassland", "forest", "wetland", "water")


@dataclass(frozen=True)
class StrikeSpec:
    """A synthetic attack: ``strikes`` strikes of ``carriers`` carriers of ``submunitions`` each.

    Uniform-ellipse pattern ``length_m`` x ``width_m``; per-carrier errors ``carrier_sd_m`` along
    and across, common aim error ``aim_sd_m``; dud rate ``dud`` with a Beta spread ``spread``
    (standard deviation) when ``dud`` < 1.
    """

    dud: float = 0.10
    strikes: int = 10
    carriers: int = 100
    submunitions: int = 644
    length_m: float = 200.0
    width_m: float = 100.0
    carrier_sd_m: float = 200.0
    aim_sd_m: float = 50.0
    spread: float = 0.03
    seed: int = 1

    @property
    def per_realization(self) -> int:
        """Submunitions dropped per realization."""
        return self.strikes * self.carriers * self.submunitions


def beta_parameters(mean: float, sd: float) -> tuple[float, float]:
    """Beta (alpha, beta) with this mean and standard deviation (method of moments)."""
    nu = mean * (1.0 - mean) / sd**2 - 1.0
    return mean * nu, (1.0 - mean) * nu


def grid(cells_per_side: int) -> Grid:
    """The 10 x 10 km study area with ``cells_per_side`` cells along each side."""
    return Grid(CRS, X0, Y0, SIDE_M / cells_per_side, cells_per_side, cells_per_side)


def strike_tables(spec: StrikeSpec) -> tuple[np.ndarray, np.ndarray]:
    """Strike tables (float64, int64) in ``kernels.strike_table`` layout: one epoch, each strike
    its own random stream and counted here (``HOME``)."""
    rng = np.random.default_rng(spec.seed)
    f = np.zeros((spec.strikes, T.N_FLOAT))
    ti = np.zeros((spec.strikes, T.N_INT), np.int64)
    alpha, beta = beta_parameters(spec.dud, spec.spread) if spec.dud < 1.0 else (0.0, 0.0)
    for s in range(spec.strikes):
        azimuth = rng.uniform(0.0, 2.0 * math.pi)
        f[s, T.AIM_X] = X0 + rng.uniform(0.25, 0.75) * SIDE_M
        f[s, T.AIM_Y] = Y0 - rng.uniform(0.25, 0.75) * SIDE_M
        f[s, T.SIN_AZ], f[s, T.COS_AZ] = math.sin(azimuth), math.cos(azimuth)
        f[s, T.HALF_ALONG], f[s, T.HALF_ACROSS] = 0.5 * spec.length_m, 0.5 * spec.width_m
        f[s, T.AIM_SD] = spec.aim_sd_m
        f[s, T.CARRIER_SD_ALONG] = f[s, T.CARRIER_SD_ACROSS] = spec.carrier_sd_m
        f[s, T.DUD_MEAN] = spec.dud
        f[s, T.DUD_ALPHA], f[s, T.DUD_BETA] = alpha, beta
        ti[s, [T.CARRIERS, T.SUBMUNITIONS, T.PATTERN, T.EPOCH, T.STREAM, T.HOME]] = (
            spec.carriers, spec.submunitions, T.UNIFORM_ELLIPSE, 0, s, 1)
    return f, ti


def kernel_inputs(spec: StrikeSpec, cells_per_side: int, reference_m: float = 0.0) -> KernelInputs:
    """Kernel inputs for ``spec`` on the study area: one land-use class (multiplier 1), one zone,
    the whole grid as one window (``run_ensemble`` cuts large grids into tiles itself); land within
    ``reference_m`` of a remnant is contaminated (0: the remnant's cell alone)."""
    g = grid(cells_per_side)
    f, ti = strike_tables(spec)
    return KernelInputs(
        f=f, ti=ti, key=(0x9E3779B97F4A7C15, spec.seed), x0=g.x0, y0=g.y0, cell_size_m=g.cell_size_m,
        nx=g.nx, ny=g.ny, cell_class=np.zeros(g.n_cells, np.uint8), class_mult=np.ones(1),
        zone=np.zeros(g.n_cells, np.int32), n_zones=1, n_epochs=1,
        disc=disc_half_widths(reference_m, g.cell_size_m),
    )


def land_use_layer(n_polygons: int, seed: int = 1) -> LandUseLayer:
    """About ``n_polygons`` small jittered quadrilaterals tiling the study area, random classes."""
    rng = np.random.default_rng(seed)
    m = math.ceil(math.sqrt(n_polygons))
    pitch = SIDE_M / m
    row, col = np.divmod(np.arange(n_polygons), m)
    corners = np.array([(0.1, 0.1), (0.9, 0.1), (0.9, 0.9), (0.1, 0.9)])  # fraction of the pitch
    xy = (corners[None] + rng.uniform(-0.08, 0.08, (n_polygons, 4, 2))) * pitch
    xy[..., 0] += X0 + col[:, None] * pitch
    xy[..., 1] += Y0 - SIDE_M + row[:, None] * pitch
    polygons = shapely.polygons(np.concatenate([xy, xy[:, :1]], axis=1))
    keys = np.asarray(CLASSES)[rng.integers(0, len(CLASSES), n_polygons)]
    frame = geopandas.GeoDataFrame({"class_key": keys}, geometry=polygons, crs=CRS)
    report = LandUseReport(
        n_features=n_polygons, n_repaired=0, n_dropped=0, n_default=0, unmapped_values={},
        source_crs=CRS, crs=CRS, default_class="grassland",
    )
    return LandUseLayer(polygons=frame, crs=CRS, report=report)
