"""Realizations of a batch run on Python threads, each calling a compiled ``nogil`` kernel once per
realization: no ``parallel=True`` kernel, whose parallel wrapper would recompile (and re-optimise)
the whole call tree on a first run, costing more than the realizations it runs."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor


def each_realization(n_real: int, threads: int, run: Callable[[int], None]) -> None:
    """Call ``run(r)`` once for each ``r`` in ``0 .. n_real - 1`` on up to ``threads`` threads, which
    take the next realization as they finish one (costs vary between realizations). ``run`` must
    write only realization ``r``'s own output, so results cannot depend on the thread count."""
    threads = max(1, min(int(threads), n_real))
    if threads == 1:
        for r in range(n_real):
            run(r)
        return
    todo = itertools.count()  # next() on it is atomic under the GIL

    def worker() -> None:
        for r in todo:
            if r >= n_real:
                return
            run(r)

    with ThreadPoolExecutor(threads) as pool:
        for done in [pool.submit(worker) for _ in range(threads)]:
            done.result()
