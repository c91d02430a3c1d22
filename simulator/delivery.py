"""Delivery families: how a strike of one profile becomes a row of the kernel's strike table.

A registry maps each family name to a function that fills the geometry columns. Artillery
projectiles and rockets form a salvo: each carrier lands around the aim point with its own
range and deflection errors. Air-dropped dispensers form a stick: carriers are spaced along
the flight track, with along- and cross-track errors, and the footprint grows with the
function altitude.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from kernels import strike_table as T
from simulator.profiles import DeliveryProfile
from simulator.scenario import Strike

PATTERN_CODES = {"uniform-ellipse": T.UNIFORM_ELLIPSE, "normal": T.NORMAL, "ring": T.RING}


def _salvo(row: np.ndarray, strike: Strike, profile: DeliveryProfile) -> None:
    _footprint(row, profile, None)
    row[T.CARRIER_SPACING] = 0.0


def _stick(row: np.ndarray, strike: Strike, profile: DeliveryProfile) -> None:
    _footprint(row, profile, strike.function_altitude_m)
    row[T.CARRIER_SPACING] = profile.carrier_spacing_m


def _footprint(row: np.ndarray, profile: DeliveryProfile, altitude_m: float | None) -> None:
    length, width = profile.footprint(altitude_m)
    row[T.HALF_ALONG] = 0.5 * length
    row[T.HALF_ACROSS] = 0.5 * width
    row[T.INNER_FRACTION] = profile.pattern.inner_fraction
    row[T.TRUNCATE_SD] = profile.pattern.truncate_sd
    row[T.AIM_SD] = profile.delivery_error.aim_sd_m
    row[T.CARRIER_SD_ALONG] = profile.delivery_error.range_sd
    row[T.CARRIER_SD_ACROSS] = profile.delivery_error.deflection_sd


FAMILIES: dict[str, Callable[[np.ndarray, Strike, DeliveryProfile], None]] = {
    "artillery-projectile": _salvo,
    "rocket": _salvo,
    "air-dropped-dispenser": _stick,
}


def beta_parameters(mean: float, spread: float) -> tuple[float, float]:
    """Beta (alpha, beta) with this mean and standard deviation; (0, 0) for a fixed rate."""
    if spread <= 0.0 or mean <= 0.0 or mean >= 1.0:
        return 0.0, 0.0
    nu = mean * (1.0 - mean) / spread**2 - 1.0
    return mean * nu, (1.0 - mean) * nu


def strike_rows(
    strike: Strike, profile: DeliveryProfile, x: float, y: float, epoch: int, stream: int
) -> tuple[np.ndarray, np.ndarray]:
    """The float and int rows of the kernel's strike table for one strike at (x, y) (m);
    ``stream`` is the strike's index in the scenario."""
    f = np.zeros(T.N_FLOAT)
    i = np.zeros(T.N_INT, dtype=np.int64)
    FAMILIES[profile.family](f, strike, profile)
    azimuth = math.radians(strike.azimuth_deg)
    f[T.AIM_X], f[T.AIM_Y] = x, y
    f[T.SIN_AZ], f[T.COS_AZ] = math.sin(azimuth), math.cos(azimuth)
    dud = strike.dud_rate or profile.dud_rate
    f[T.DUD_MEAN] = dud.mean
    f[T.DUD_ALPHA], f[T.DUD_BETA] = beta_parameters(dud.mean, dud.spread)
    i[T.CARRIERS] = strike.carriers
    i[T.SUBMUNITIONS] = profile.submunitions_per_carrier
    i[T.PATTERN] = PATTERN_CODES[profile.pattern.kind]
    i[T.EPOCH] = epoch
    i[T.STREAM] = stream
    i[T.HOME] = 1
    return f, i
