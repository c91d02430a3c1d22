"""The batched pattern draw (``kernels.pattern.unit_points``) gives the points ``unit_point`` gives
one by one, from the same draws in the same order, leaving the stream in the same state."""

from __future__ import annotations

import numba
import numpy as np
import pytest
from simulator.kernels import strike_table as T
from simulator.kernels.pattern import unit_point, unit_points
from simulator.kernels.rng import seed_stream, uniform


@numba.njit
def one_by_one(state, kind, inner, truncate, n, thin):
    """``n`` points as the kernel drew them before batching: each point, then (with ``thin``) a uniform."""
    out = np.zeros((n, 3))
    for i in range(n):
        out[i, 0], out[i, 1] = unit_point(state, kind, inner, truncate)
        if thin:
            out[i, 2] = uniform(state)
    return out


def fresh(stream: int) -> np.ndarray:
    state = np.empty(4, np.uint64)
    seed_stream(state, np.uint64(11), np.uint64(12), 3, stream)
    return state


@pytest.mark.parametrize("kind, inner, truncate", [(T.UNIFORM_ELLIPSE, 0.0, 0.0), (T.NORMAL, 0.0, 2.0),
                                                   (T.NORMAL, 0.0, 0.5), (T.RING, 0.4, 0.0)])
@pytest.mark.parametrize("thin", [False, True])
@pytest.mark.parametrize("n", [1, 7, 256])
def test_batched_points_equal_one_by_one(kind, inner, truncate, thin, n):
    for stream in range(20):
        a, b = fresh(stream), fresh(stream)
        expected = one_by_one(a, kind, inner, truncate, n, thin)
        u, v, t = np.full((3, n), np.nan)
        unit_points(b, kind, inner, truncate, n, u, v, thin, t)
        np.testing.assert_array_equal(u, expected[:, 0])
        np.testing.assert_array_equal(v, expected[:, 1])
        if thin:
            np.testing.assert_array_equal(t, expected[:, 2])
        np.testing.assert_array_equal(a, b)  # the stream is where the one-by-one draw left it


def test_batched_ellipse_points_are_uniform_in_the_disc():
    """Not only equal to the old draw: the points fill the unit disc uniformly (radius^2 uniform,
    angle uniform), within 4 standard errors."""
    n = 200_000
    u, v, t = np.empty((3, n))
    unit_points(fresh(0), T.UNIFORM_ELLIPSE, 0.0, 0.0, n, u, v, True, t)
    r2, angle = u * u + v * v, np.arctan2(v, u)
    assert r2.max() <= 1.0
    se = np.sqrt(1 / 12 / n)  # of the mean of a uniform on [0, 1)
    assert abs(r2.mean() - 0.5) < 4 * se
    assert abs(angle.mean()) < 4 * np.pi / np.sqrt(3 * n)  # uniform on (-pi, pi]
    assert abs(t.mean() - 0.5) < 4 * se
