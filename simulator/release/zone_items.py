"""Remnants per realization, epoch and zone of scored realizations, counted tile by tile.

The land-release pass scatters each scored realization again, counting items per work unit
(its zones); each tile counts only the zones it holds, so a tile's tallies scale with the tile.
A second zone map (``Extra``: the CHA polygons) can be counted in the same pass: each cell
then counts in the zone of its pair (work-unit zone, extra zone), and the pairs' counts are
added up both ways, exactly, so that the polygons need no scatter of their own.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial

import numba
import numpy as np

from simulator.engine.layout import TILE_CELLS
from simulator.engine.scatter import CellSums, scatter
from simulator.engine.tiles import tile_kernels
from simulator.inputs.kernel_inputs import KernelInputs

RELEASE_BATCH_BYTES = 192 * 2**20
"""Largest table of items per realization, epoch and zone a land-release batch holds (bytes):
batches of many work units shrink to fit (results do not depend on batches)."""


def zone_digest(zone: np.ndarray, n_zones: int) -> str:
    """An identity of the zone map ``zone`` (per cell) of ``n_zones`` zones: equal digests, equal maps."""
    digest = hashlib.blake2b(np.ascontiguousarray(zone, np.int32).data, digest_size=16)
    digest.update(f"{zone.shape}:{n_zones}".encode())
    return digest.hexdigest()


@dataclass(frozen=True)
class Extra:
    """A second zone map to count in the land-release pass: ``zone`` (int32 per cell) in
    ``0 .. n_zones - 1``, the last zone being the rest of the grid (counted as what the others leave)."""

    zone: np.ndarray
    n_zones: int

    @property
    def digest(self) -> str:
        return zone_digest(self.zone, self.n_zones)


@dataclass(frozen=True)
class ZoneCounts:
    """Remnants per realization in each zone of an ``Extra`` map (int64 [realization, zone]), over
    all epochs; ``digest``: the map's (``zone_digest``)."""

    digest: str
    items: np.ndarray

    @staticmethod
    def concat(parts: list[ZoneCounts | None]) -> ZoneCounts | None:
        """The counts of ``parts``' realizations in order (None unless all count the same map)."""
        if not parts or any(p is None or p.digest != parts[0].digest for p in parts):
            return None
        return ZoneCounts(parts[0].digest, np.concatenate([p.items for p in parts]))


@dataclass(frozen=True)
class JointZones:
    """Zones of pairs of two maps: a cell in the extra map's last zone keeps its zone ``a`` (``< n_a``);
    any other is in zone ``n_a + j`` of its pair ``j``: (``pair_a[j]``, ``pair_b[j]``)."""

    zone: np.ndarray
    n_a: int
    n_b: int
    pair_a: np.ndarray
    pair_b: np.ndarray

    @classmethod
    def of(cls, a: np.ndarray, n_a: int, extra: Extra) -> JointZones:
        cells = np.flatnonzero(extra.zone != extra.n_zones - 1)
        key = a[cells].astype(np.int64) * extra.n_zones + extra.zone[cells]
        pairs, inverse = np.unique(key, return_inverse=True)
        zone = a.astype(np.int32)  # a copy
        zone[cells] = n_a + inverse.astype(np.int32)
        return cls(zone, n_a, extra.n_zones, pairs // extra.n_zones, pairs % extra.n_zones)

    @property
    def n_zones(self) -> int:
        return self.n_a + len(self.pair_a)

    def adder(self, ids: np.ndarray) -> Callable[[np.ndarray, np.ndarray, np.ndarray], None]:
        """``add(local, by_a, by_b)``: add the counts ``local`` [realization, epoch, i] of joint zones ``ids[i]``
        to ``by_a`` [realization, epoch, zone a] and, over epochs, to ``by_b`` [realization, zone b] (but its
        last zone, the rest: ``finish``); integer sums, exact."""
        paired = ids >= self.n_a
        a_of = np.where(paired, self.pair_a[np.where(paired, ids - self.n_a, 0)], ids)
        order_a = np.argsort(a_of, kind="stable")
        a, start_a = np.unique(a_of[order_a], return_index=True)
        pairs = np.flatnonzero(paired)
        b_of = self.pair_b[ids[pairs] - self.n_a]
        order_b = pairs[np.argsort(b_of, kind="stable")]
        b, start_b = np.unique(np.sort(b_of, kind="stable"), return_index=True)

        def add(local: np.ndarray, by_a: np.ndarray, by_b: np.ndarray) -> None:
            if len(a):
                by_a[:, :, a] += np.add.reduceat(local[:, :, order_a], start_a, axis=2)
            if len(b):
                by_b[:, b] += np.add.reduceat(local[:, :, order_b].sum(axis=1), start_b, axis=1)
        return add

    @staticmethod
    def finish(by_a: np.ndarray, by_b: np.ndarray) -> None:
        """Set the rest's count: every remnant on the grid is in one zone ``a``."""
        by_b[:, -1] = by_a.sum(axis=(1, 2)) - by_b[:, :-1].sum(axis=1)


def zone_item_batches(
    k: KernelInputs, realizations: int, first: int = 0, threads: int | None = None, batch_size: int = 64,
    tile_cells: int = TILE_CELLS, draw=scatter, extra: Extra | None = None,
):
    """(first realization, items [realization, epoch, zone], with ``extra`` its items per realization
    and zone of that map over all epochs, else None) of each batch of realizations
    ``first .. first + realizations - 1`` of ``k``, counted tile by tile on grids wider or taller
    than ``tile_cells`` into one reused set of accumulators (no whole-grid array is made), in
    batches whose table stays under ``RELEASE_BATCH_BYTES`` (and, above one realization per thread,
    a whole number of realizations per thread). Each window counts only the zones it holds
    (``local_zones``), so its tallies scale with the tile, not with every work unit's; with ``extra``,
    the zones of the pairs it holds (``JointZones``), added into both maps' tables window by window.
    Use a disc of one cell (``NO_DISC``). ``draw`` runs a batch (``scatter``'s signature); ``scatter`` itself
    runs counting items only (``counts_only``: the same counts, no per-cell accumulators)."""
    threads = threads or numba.config.NUMBA_NUM_THREADS
    joint = None if extra is None else JointZones.of(k.zone, k.n_zones, extra)
    counted = k if joint is None else replace(k, zone=joint.zone, n_zones=joint.n_zones)
    windows = [local_zones(w, counted.n_zones) for w in
               (tile_kernels(counted, tile_cells) if max(k.nx, k.ny) > tile_cells else [counted])]
    adders = None if joint is None else [joint.adder(ids) for _, ids in windows]
    if draw is scatter:  # the prior's draws: counted without per-cell sums
        buffer, draw = CellSums.rows(threads, k.n_epochs), partial(scatter, counts_only=True)
    else:  # the posterior's draw adds to per-cell sums: one buffer serves every window (``_view``)
        buffer = CellSums.zeros(replace(k, tile=(0, 0, 1, max(w.n_cells for w, _ in windows))), threads)
    n_epochs, n_zones = k.n_epochs, k.n_zones
    del k, counted, extra  # the windows hold the zones they count: the whole grid's maps are not kept here
    joint = None if joint is None else replace(joint, zone=None)
    per_realization = n_epochs * n_zones * 8  # items (int64)
    fit = max(1, RELEASE_BATCH_BYTES // per_realization)
    batch_size = max(1, min(batch_size, fit if fit < threads else fit // threads * threads))
    for start in range(0, realizations, batch_size):
        n = min(batch_size, realizations - start)
        items = np.zeros((n, n_epochs, n_zones), np.int64)
        by_b = None if joint is None else np.zeros((n, joint.n_b), np.int64)
        for j, (window, ids) in enumerate(windows):
            local = draw(window, first + start, n, _view(buffer, window)).zone_items[:, :, :len(ids)]
            if joint is None:
                items[:, :, ids] += local
            else:
                adders[j](local, items, by_b)
        if joint is not None:
            joint.finish(items, by_b)
        yield first + start, items, by_b


def local_zones(window: KernelInputs, n_zones: int) -> tuple[KernelInputs, np.ndarray]:
    """``window`` counting its own zones only: (the window with zones renumbered ``0 .. m - 1`` in the
    order of the zones of ``0 .. n_zones - 1`` it holds, and zone ``m`` for the rest, a tile's halo;
    those ``m`` zones' numbers, int64). Its counts per local zone are the counts of those zones."""
    held = np.bincount(window.zone, minlength=n_zones + 1)[:n_zones] > 0
    ids = np.flatnonzero(held)
    local = np.full(max(window.n_zones, n_zones) + 1, len(ids), np.int32)
    local[ids] = np.arange(len(ids), dtype=np.int32)
    return replace(window, zone=local[window.zone], n_zones=len(ids) + 1), ids


def items_per_zone(k: KernelInputs, realizations: int, threads: int | None = None, batch_size: int = 64,
                   tile_cells: int = TILE_CELLS, draw=scatter) -> np.ndarray:
    """Remnants per realization and zone of ``k`` over all epochs (int64 [realization, zone]); ``draw`` runs a
    batch (``scatter``'s signature; the posterior's draws its realizations)."""
    out = np.zeros((realizations, k.n_zones), np.int64)
    for index, items, _ in zone_item_batches(k, realizations, 0, threads, batch_size, tile_cells, draw):
        out[index:index + len(items)] = items.sum(axis=1)
    return out


def _view(buffer: CellSums, window: KernelInputs) -> CellSums:
    """Accumulators for ``window`` in ``buffer``'s memory: zone counts never read them, so one
    buffer serves every tile and batch (a buffer of no cells stays one)."""
    threads, n, e = buffer.sum_count.shape[0], window.n_cells, window.n_epochs
    if buffer.sum_count.shape[1] == 0:
        return buffer
    return CellSums(buffer.sum_count.ravel()[:threads * n].reshape(threads, n),
                    buffer.sum_sq.ravel()[:threads * n].reshape(threads, n),
                    buffer.hits.ravel()[:threads * e * n].reshape(threads, e, n))
