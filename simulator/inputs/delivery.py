"""Delivery families: how strikes of one profile become rows of the kernel's strike table.

A registry maps each family name to a function that fills the geometry columns of a group
of strikes. Artillery projectiles and rockets form a salvo: each carrier lands around the
aim point with its own range and deflection errors. Air-dropped dispensers form a stick:
carriers are spaced along the flight track, with along- and cross-track errors, and the
footprint grows with the function altitude.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from simulator.config.profiles import DeliveryProfile
from simulator.inputs.strikes import StrikeColumns
from simulator.kernels import strike_table as T

PATTERN_CODES = {"uniform-ellipse": T.UNIFORM_ELLIPSE, "normal": T.NORMAL, "ring": T.RING}


def _salvo(f: np.ndarray, profile: DeliveryProfile) -> None:
    length, width = profile.footprint()
    f[:, T.HALF_ALONG], f[:, T.HALF_ACROSS] = 0.5 * length, 0.5 * width
    f[:, T.CARRIER_SPACING] = 0.0


def _stick(f: np.ndarray, altitude_m: np.ndarray, profile: DeliveryProfile) -> None:
    fba = profile.footprint_by_altitude
    if fba is None:
        _salvo(f, profile)
    else:
        altitude = np.where(np.isnan(altitude_m), fba.default_altitude_m, altitude_m)
        t = (altitude - fba.altitude_m[0]) / (fba.altitude_m[1] - fba.altitude_m[0])
        f[:, T.HALF_ALONG] = 0.5 * (fba.length_m[0] + t * (fba.length_m[1] - fba.length_m[0]))
        f[:, T.HALF_ACROSS] = 0.5 * (fba.width_m[0] + t * (fba.width_m[1] - fba.width_m[0]))
    f[:, T.CARRIER_SPACING] = profile.carrier_spacing_m


FAMILIES: dict[str, Callable[[np.ndarray, np.ndarray, DeliveryProfile], None]] = {
    "artillery-projectile": lambda f, altitude_m, profile: _salvo(f, profile),
    "rocket": lambda f, altitude_m, profile: _salvo(f, profile),
    "air-dropped-dispenser": _stick,
}
"""Family name -> function filling the footprint and spacing columns of a group of rows (per-row function
altitudes in m, NaN for the profile's default: only dispensers' footprints depend on it)."""


def beta_parameters(mean, spread):
    """Beta (alpha, beta) with this mean and standard deviation; (0, 0) for a fixed rate (arrays or scalars)."""
    mean, spread = np.asarray(mean, float), np.asarray(spread, float)
    beta_ok = (spread > 0.0) & (mean > 0.0) & (mean < 1.0)
    nu = np.where(beta_ok, mean * (1.0 - mean) / np.where(beta_ok, spread, 1.0) ** 2 - 1.0, 0.0)
    alpha, beta = mean * nu, (1.0 - mean) * nu
    if alpha.ndim == 0:
        return float(alpha), float(beta)
    return alpha, beta


def strike_table(
    strikes: StrikeColumns, profiles: dict[str, DeliveryProfile], epoch: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The kernel's strike tables (float64, int64) for ``strikes`` (in their order; STREAM = index)."""
    n = len(strikes)
    f = np.zeros((n, T.N_FLOAT))
    ti = np.zeros((n, T.N_INT), np.int64)
    for name in np.unique(strikes.profile):
        profile = profiles[name]
        rows = np.flatnonzero(strikes.profile == name)
        group = f[rows]
        FAMILIES[profile.family](group, strikes.altitude_m[rows], profile)
        error = profile.delivery_error
        group[:, T.INNER_FRACTION] = profile.pattern.inner_fraction
        group[:, T.TRUNCATE_SD] = profile.pattern.truncate_sd
        group[:, T.AIM_SD] = error.aim_sd_m
        group[:, T.CARRIER_SD_ALONG] = error.range_sd
        group[:, T.CARRIER_SD_ACROSS] = error.deflection_sd
        mean = np.where(np.isnan(strikes.dud_mean[rows]), profile.dud_rate.mean, strikes.dud_mean[rows])
        spread = np.where(np.isnan(strikes.dud_spread[rows]), profile.dud_rate.spread, strikes.dud_spread[rows])
        group[:, T.DUD_MEAN] = mean
        group[:, T.DUD_ALPHA], group[:, T.DUD_BETA] = beta_parameters(mean, spread)
        f[rows] = group
        ti[rows, T.SUBMUNITIONS] = profile.submunitions_per_carrier
        ti[rows, T.PATTERN] = PATTERN_CODES[profile.pattern.kind]
    azimuth = np.radians(strikes.azimuth_deg)
    f[:, T.AIM_X], f[:, T.AIM_Y] = strikes.x, strikes.y
    f[:, T.SIN_AZ], f[:, T.COS_AZ] = np.sin(azimuth), np.cos(azimuth)
    ti[:, T.CARRIERS] = strikes.carriers
    ti[:, T.EPOCH] = epoch
    ti[:, T.STREAM] = np.arange(n)
    ti[:, T.HOME] = 1
    return f, ti
