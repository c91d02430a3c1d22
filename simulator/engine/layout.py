"""How an ensemble is laid out, apart from the kernels (so that preparing a run imports no numba):
each family of realizations' random stream from the seed, the jackknife groups of realizations,
the tiles of large grids."""

from __future__ import annotations

import numpy as np

SCORED = 1
"""Stream family of the realizations land release scores a plan against, apart from the ensemble's (0)."""


def root_key(seed: int, family: int = 0) -> tuple[int, int]:
    """Two well-mixed uint64 words from the scenario seed (numpy's SeedSequence); ``family`` > 0
    gives an independent key for another set of realizations (``SCORED``)."""
    sequence = np.random.SeedSequence(seed, spawn_key=(family,)) if family else np.random.SeedSequence(seed)
    words = sequence.generate_state(2, np.uint64)
    return int(words[0]), int(words[1])


GROUPS = 10
"""Groups of realizations the jackknife leaves out one at a time."""
GROUP_EPOCH_CELLS = 8_000_000
"""Above this many epochs x cells, groups keep their hits for the last epoch only (memory)."""
GROUP_BLOCK = 32
"""Realizations ``r`` form blocks of this many; block ``r // GROUP_BLOCK`` belongs to group
``block % GROUPS``, whatever the batches, threads, workers or checkpoints."""


def group_epochs(n_epochs: int, n_cells: int) -> int:
    """Epochs the groups keep hits for: all of them, or 1 above ``GROUP_EPOCH_CELLS``."""
    return n_epochs if n_epochs * n_cells <= GROUP_EPOCH_CELLS else 1


def group_of(r):
    """The jackknife group of realization(s) ``r``."""
    return (np.asarray(r) // GROUP_BLOCK) % GROUPS


TILE_CELLS = 1024
"""Side of the tiles (cells) that grids larger than one tile are run in: a million cells, so that
a thread's accumulators stay under about 80 MB (in both passes)."""
