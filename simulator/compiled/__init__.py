"""The compiled kernels: where numba caches them (``cache``), how it finds them there (``locator``),
and those compiled while the wheel is built, shipped in it for a user's first run (``warmup``, ``record``).

Imports neither numba nor the kernels until they are used, so ``import simulator`` stays fast.
"""
