"""Counter-seeded random streams: xoshiro256++ seeded by splitmix64.

A stream is a ``uint64[4]`` state array. Each (realization, strike) pair gets its own stream,
derived from the scenario's root key, so results do not depend on threads or batching.
Variates: uniform [0, 1), a pair of uniforms on [-1, 1) from one output, standard normal
pairs (polar method), gamma (Marsaglia-Tsang), beta, and exact binomial (inversion for
small means, beta splitting for large ones).
"""

from __future__ import annotations

import numpy as np

from .jit import jit

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_INV_2_53 = 1.0 / 9007199254740992.0
_INV_2_31 = 1.0 / 2147483648.0
_LOW32 = np.uint64(0xFFFFFFFF)


@jit
def splitmix64(x):
    """One splitmix64 step on ``x`` (uint64): a well-mixed uint64."""
    z = np.uint64(x) + _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    return z ^ (z >> np.uint64(31))


@jit
def seed_stream(state, key0, key1, realization, strike):
    """Fill ``state`` (uint64[4]) for the stream of (``realization``, ``strike``) under root key."""
    z = splitmix64(np.uint64(key0) ^ splitmix64(np.uint64(realization)))
    z = splitmix64(z ^ np.uint64(key1) ^ splitmix64(splitmix64(np.uint64(strike))))
    for i in range(4):
        z = splitmix64(z)
        state[i] = z
    if state[0] == 0 and state[1] == 0 and state[2] == 0 and state[3] == 0:
        state[0] = _GOLDEN


@jit
def next_u64(state):
    """Advance xoshiro256++ and return its next uint64 (every bit of full quality)."""
    s = state[0] + state[3]
    result = ((s << np.uint64(23)) | (s >> np.uint64(41))) + state[0]
    t = state[1] << np.uint64(17)
    state[2] ^= state[0]
    state[3] ^= state[1]
    state[1] ^= state[2]
    state[0] ^= state[3]
    state[2] ^= t
    state[3] = (state[3] << np.uint64(45)) | (state[3] >> np.uint64(19))
    return result


@jit
def as_uniform(x):
    """The uniform float64 in [0, 1) of output ``x``: its top 53 bits."""
    return np.float64(x >> np.uint64(11)) * _INV_2_53


@jit
def as_signed_pair(x):
    """The two uniforms on [-1, 1) of output ``x``: its halves, 32 bits each."""
    a = np.float64(np.int64(x >> np.uint64(32))) * _INV_2_31 - 1.0
    b = np.float64(np.int64(x & _LOW32)) * _INV_2_31 - 1.0
    return a, b


@jit
def uniform(state):
    """Uniform float64 in [0, 1) from the top 53 bits."""
    return as_uniform(next_u64(state))


@jit
def signed_pair(state):
    """Two uniforms on [-1, 1), 32 bits each, from the two halves of one output."""
    return as_signed_pair(next_u64(state))


@jit
def normal_pair(state):
    """Two independent standard normal variates (Marsaglia's polar method)."""
    while True:
        a = 2.0 * uniform(state) - 1.0
        b = 2.0 * uniform(state) - 1.0
        s = a * a + b * b
        if 0.0 < s < 1.0:
            f = np.sqrt(-2.0 * np.log(s) / s)
            return a * f, b * f


@jit
def gamma(state, shape):
    """Gamma(``shape``, scale 1) variate, ``shape`` > 0 (Marsaglia and Tsang 2000)."""
    boost = 1.0
    if shape < 1.0:
        boost = uniform(state) ** (1.0 / shape)
        shape += 1.0
    d = shape - 1.0 / 3.0
    c = 1.0 / np.sqrt(9.0 * d)
    while True:
        x, _ = normal_pair(state)
        v = 1.0 + c * x
        if v <= 0.0:
            continue
        v = v * v * v
        u = uniform(state)
        if u < 1.0 - 0.0331 * x * x * x * x or np.log(u) < 0.5 * x * x + d * (1.0 - v + np.log(v)):
            return d * v * boost


@jit
def beta(state, a, b):
    """Beta(``a``, ``b``) variate.

    With tiny shapes both gamma draws can underflow to 0; the Beta mass then sits at the
    ends, at 1 with probability ``a / (a + b)``.
    """
    x = gamma(state, a)
    y = gamma(state, b)
    if x + y == 0.0:
        return 1.0 if uniform(state) * (a + b) < a else 0.0
    return x / (x + y)


@jit
def _binomial_inversion(state, n, p):
    """Binomial(n, p) by sequential inversion; expected cost O(n min(p, 1 - p))."""
    if p > 0.5:
        return n - _binomial_inversion(state, n, 1.0 - p)
    if p <= 0.0:
        return 0
    q = 1.0 - p
    s = p / q
    a = (n + 1) * s
    r = q**n
    u = uniform(state)
    x = 0
    while u > r and x < n:
        u -= r
        x += 1
        r *= a / x - s
    return x


@jit
def binomial(state, n, p):
    """Exact Binomial(``n``, ``p``) variate (int64).

    Large means are first split with order statistics of uniforms (a Beta draw), which is
    exact, until the remaining mean is small enough for inversion.
    """
    if n <= 0 or p <= 0.0:
        return 0
    if p >= 1.0:
        return n
    flip = p > 0.5
    if flip:
        p = 1.0 - p
    total = n
    count = 0
    while n * min(p, 1.0 - p) > 16.0:
        i = (n + 1) // 2
        x = beta(state, np.float64(i), np.float64(n + 1 - i))
        if x <= p:
            count += i
            n -= i
            p = (p - x) / (1.0 - x)
        else:
            n = i - 1
            p = p / x
    count += _binomial_inversion(state, n, p)
    return total - count if flip else count
