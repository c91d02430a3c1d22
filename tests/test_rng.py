"""The kernel's random variates (kernels/rng.py): moments, distributions, stream identity.

Tolerances: sample means and variances within 4 standard errors, where the standard error of
a sample variance is sqrt((mu4 - sigma^4 (n - 3) / (n - 1)) / n) from the distribution's
fourth central moment; goodness-of-fit tests pass at p > 0.001. Every test uses a fixed stream, so these
are deterministic; the bands are what a correct generator passes with high probability for
any stream, so a changed generator should pass them too.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats
from simulator.kernels.rng import beta, binomial, gamma, next_u64, normal_pair, seed_stream, signed_pair, uniform

KEY0, KEY1 = np.uint64(0x9E3779B97F4A7C15), np.uint64(0xD1B54A32D192ED03)
Z = 4.0  # standard errors allowed


def stream(realization: int = 0, strike: int = 0, key=(KEY0, KEY1)) -> np.ndarray:
    state = np.empty(4, np.uint64)
    seed_stream(state, np.uint64(key[0]), np.uint64(key[1]), realization, strike)
    return state


def draw(fn, n: int, *args, seed: int = 0) -> np.ndarray:
    state = stream(seed, 7)
    return np.array([fn(state, *args) for _ in range(n)])


def check_moments(x: np.ndarray, mean: float, var: float, mu4: float) -> None:
    """Sample mean and variance of ``x`` within ``Z`` standard errors of the given values."""
    n = len(x)
    mean_se = math.sqrt(var / n)
    var_se = math.sqrt((mu4 - var * var * (n - 3) / (n - 1)) / n)  # exact SE of the unbiased variance
    assert abs(x.mean() - mean) <= Z * mean_se + 1e-12, (x.mean(), mean, mean_se)
    assert abs(x.var(ddof=1) - var) <= Z * var_se + 1e-12, (x.var(ddof=1), var, var_se)


def test_uniform_range_and_moments():
    x = draw(uniform, 200_000)
    assert x.min() >= 0.0 and x.max() < 1.0
    check_moments(x, 0.5, 1 / 12, 1 / 80)
    assert stats.kstest(x, "uniform").pvalue > 1e-3


def test_uniform_has_53_bit_resolution():
    # Values are multiples of 2^-53 and use the low bits of the mantissa too.
    x = draw(uniform, 1000)
    scaled = x * 2.0**53
    np.testing.assert_array_equal(scaled, np.floor(scaled))
    assert np.any(scaled % 2 == 1)


def test_uniform_is_top_53_bits_of_next_u64():
    a, b = stream(3, 4), stream(3, 4)
    for _ in range(100):
        assert uniform(a) == float(int(next_u64(b)) >> 11) / 2.0**53


def xoshiro256pp(state: list[int], n: int) -> list[int]:
    """Blackman and Vigna's xoshiro256++ reference (prng.di.unimi.it), with Python integers."""
    mask = (1 << 64) - 1

    def rotl(x, k):
        return ((x << k) | (x >> (64 - k))) & mask

    s = list(state)
    out = []
    for _ in range(n):
        out.append((rotl((s[0] + s[3]) & mask, 23) + s[0]) & mask)
        t = (s[1] << 17) & mask
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = rotl(s[3], 45)
    return out


def test_next_u64_is_xoshiro256pp():
    # The reference C code's first ten outputs from state (1, 2, 3, 4), as published with
    # rand_xoshiro (rust-random); the first two also follow by hand: 5 * 2^23 + 1, 7 * 2^23 + 103.
    published = [
        41943041, 58720359, 3588806011781223, 3591011842654386, 9228616714210784205, 9973669472204895162,
        14011001112246962877, 12406186145184390807, 15849039046786891736, 10450023813501588000,
    ]
    state = np.array([1, 2, 3, 4], np.uint64)
    assert [int(next_u64(state)) for _ in range(10)] == published
    assert xoshiro256pp([1, 2, 3, 4], 10) == published
    start = stream(5, 9)
    expected = xoshiro256pp([int(w) for w in start], 1000)
    assert [int(next_u64(start)) for _ in range(1000)] == expected


def test_signed_pair_is_both_halves_of_one_output():
    a, b = stream(2, 3), stream(2, 3)
    for _ in range(100):
        word = int(next_u64(b))
        assert signed_pair(a) == ((word >> 32) / 2.0**31 - 1.0, (word & 0xFFFFFFFF) / 2.0**31 - 1.0)


def test_signed_pair_range_and_moments():
    pairs = np.array(draw(signed_pair, 200_000))
    assert pairs.min() >= -1.0 and pairs.max() < 1.0
    for x in (pairs[:, 0], pairs[:, 1]):
        check_moments(x, 0.0, 1 / 3, 1 / 5)
        assert stats.kstest(x, "uniform", args=(-1.0, 2.0)).pvalue > 1e-3
    r = np.corrcoef(pairs[:, 0], pairs[:, 1])[0, 1]
    assert abs(r) < Z / math.sqrt(len(pairs))


def test_normal_pair():
    state = stream(1, 7)
    pairs = np.array([normal_pair(state) for _ in range(100_000)])
    for x in (pairs[:, 0], pairs[:, 1], pairs.ravel()):
        check_moments(x, 0.0, 1.0, 3.0)
        assert stats.kstest(x, "norm").pvalue > 1e-3
    # The two members of a pair are uncorrelated (SE of a correlation about 1 / sqrt(n)).
    r = np.corrcoef(pairs[:, 0], pairs[:, 1])[0, 1]
    assert abs(r) < Z / math.sqrt(len(pairs))


@pytest.mark.parametrize("shape", [0.1, 0.3, 0.8, 1.0, 2.5, 20.0])
def test_gamma_moments(shape):
    x = draw(gamma, 100_000, shape)
    assert x.min() >= 0.0
    # Gamma(k, 1): mean k, variance k, fourth central moment 3 k^2 + 6 k.
    check_moments(x, shape, shape, 3 * shape**2 + 6 * shape)
    assert stats.kstest(x, "gamma", args=(shape,)).pvalue > 1e-3


@pytest.mark.parametrize("a, b", [(0.5, 0.5), (0.3, 2.0), (2.0, 0.4), (2.0, 5.0), (10.0, 30.0), (1.0, 1.0)])
def test_beta_moments(a, b):
    x = draw(beta, 100_000, a, b)
    assert x.min() >= 0.0 and x.max() <= 1.0
    mean, var, _, kurt = (float(v) for v in stats.beta.stats(a, b, moments="mvsk"))
    check_moments(x, mean, var, (kurt + 3.0) * var * var)
    assert stats.kstest(x, "beta", args=(a, b)).pvalue > 1e-3


def test_beta_tiny_shapes_never_nan():
    x = draw(beta, 20_000, 0.002, 0.002)
    assert not np.isnan(x).any(), f"{np.isnan(x).mean():.1%} NaN"
    assert abs(x.mean() - 0.5) < Z * 0.5 / math.sqrt(len(x))


# (n, p): inversion is used while n min(p, 1 - p) <= 16, beta splitting above.
BINOMIAL_CASES = [
    (1, 0.5),
    (20, 0.3),  # n p = 6: inversion
    (40, 0.4),  # n p = 16: the last inversion case
    (41, 0.4),  # n p = 16.4: one split, then inversion
    (100, 0.5),
    (50, 0.9),  # flipped: n (1 - p) = 5
    (1000, 0.98),  # flipped, n (1 - p) = 20: split
    (1000, 0.02),
    (10_000, 0.3),
    (1_000_000, 0.3),  # many splits
    (1_000_000, 1e-5),  # n p = 10: inversion over a large n
    (1_000_000, 0.99999),
    (100, 1e-6),  # p near 0
    (100, 1 - 1e-6),  # p near 1
    (3, 1e-300),
]


@pytest.mark.parametrize("n, p", BINOMIAL_CASES)
def test_binomial_moments(n, p):
    x = draw(binomial, 50_000, n, p)
    assert x.dtype.kind == "i" and x.min() >= 0 and x.max() <= n
    q = 1.0 - p
    var = n * p * q
    mu4 = n * p * q * (1 + 3 * p * q * (n - 2))
    check_moments(x.astype(np.float64), n * p, var, mu4)


@pytest.mark.parametrize("n", [0, 1, 17, 10**6])
def test_binomial_degenerate(n):
    state = stream(2, 2)
    for _ in range(50):
        assert binomial(state, n, 0.0) == 0
        assert binomial(state, n, 1.0) == n
        assert binomial(state, 0, 0.37) == 0
        assert binomial(state, n, -0.1) == 0 and binomial(state, n, 1.5) == n


def test_binomial_p_zero_and_one_consume_nothing():
    a, b = stream(5, 5), stream(5, 5)
    binomial(a, 100, 0.0)
    binomial(a, 100, 1.0)
    binomial(a, 0, 0.5)
    np.testing.assert_array_equal(a, b)


def chi_square_pvalue(x: np.ndarray, dist, edges: np.ndarray) -> float:
    """Pearson chi-square of integer samples ``x`` binned by ``edges`` (bins [e_i, e_{i+1}))."""
    observed = np.histogram(x, bins=edges)[0]
    expected = len(x) * np.diff(dist.cdf(edges - 1))
    assert expected.min() >= 5
    assert abs(expected.sum() - len(x)) < 1e-6 * len(x)
    return stats.chisquare(observed, expected).pvalue


def quantile_edges(dist, n: int, bins: int) -> np.ndarray:
    """Integer bin edges at quantiles of ``dist``, covering 0..n (the tails in the end bins)."""
    inner = np.unique(dist.ppf(np.linspace(0, 1, bins + 1)[1:-1]).astype(np.int64))
    return np.concatenate([[0], inner[inner > 0], [n + 1]]).astype(np.float64)


@pytest.mark.parametrize("n, p", [(30, 0.3), (60, 0.35), (41, 0.4), (200, 0.8), (10_000, 0.3), (10**6, 0.5)])
def test_binomial_goodness_of_fit(n, p):
    x = draw(binomial, 40_000, n, p, seed=11)
    dist = stats.binom(n, p)
    edges = quantile_edges(dist, n, 30) if n > 100 else np.arange(0, n + 2, dtype=np.float64)
    if n <= 100:  # merge the sparse tails so every bin expects at least 5
        mass = len(x) * dist.pmf(np.arange(n + 1))
        lo = np.argmax(np.cumsum(mass) >= 5) + 1
        hi = n - np.argmax(np.cumsum(mass[::-1]) >= 5)
        edges = np.concatenate([[0], np.arange(lo, hi + 1), [n + 1]]).astype(np.float64)
    assert chi_square_pvalue(x, dist, edges) > 1e-3


def test_streams_same_for_same_pair():
    a, b = stream(12, 34), stream(12, 34)
    np.testing.assert_array_equal(a, b)
    assert [uniform(a) for _ in range(10)] == [uniform(b) for _ in range(10)]


def test_streams_differ_between_pairs_and_keys():
    seen = {}
    for r in range(40):
        for s in range(40):
            state = stream(r, s)
            assert np.any(state != 0)
            first = tuple(int(next_u64(state)) for _ in range(2))
            assert first not in seen, (r, s, seen.get(first))
            seen[first] = (r, s)
    # (realization, strike) is not symmetric, and the key matters in either word.
    assert not np.array_equal(stream(1, 2), stream(2, 1))
    assert not np.array_equal(stream(0, 0), stream(0, 0, key=(KEY0 ^ np.uint64(1), KEY1)))
    assert not np.array_equal(stream(0, 0), stream(0, 0, key=(KEY0, KEY1 ^ np.uint64(1))))


def test_neighbouring_streams_uncorrelated():
    n = 20_000
    base = draw(uniform, n, seed=0)
    for other in (stream(1, 7), stream(0, 8), stream(0, 7, key=(KEY0 + np.uint64(1), KEY1))):
        x = np.array([uniform(other) for _ in range(n)])
        assert abs(np.corrcoef(base, x)[0, 1]) < Z / math.sqrt(n)
        assert stats.ks_2samp(base, x).pvalue > 1e-3


def test_seed_stream_is_splitmix_chain():
    # Reference: the documented derivation, written with Python integers.
    mask = (1 << 64) - 1

    def mix(x):
        z = (x + 0x9E3779B97F4A7C15) & mask
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
        return z ^ (z >> 31)

    k0, k1, r, s = int(KEY0), int(KEY1), 9, 4
    z = mix(k0 ^ mix(r))
    z = mix(z ^ k1 ^ mix(mix(s)))
    expected = []
    for _ in range(4):
        z = mix(z)
        expected.append(z)
    assert [int(v) for v in stream(r, s)] == expected
