"""The Dask backend: realizations or tiles run as tasks on a dask.distributed cluster.

``remnant run --workers N`` starts a local cluster of N single-threaded worker processes;
``--scheduler ADDRESS`` joins a running one. Small grids are split into chunks of
realizations; grids run in tiles are split into tiles, so no worker holds the whole grid.
Results are merged in a fixed order, and integer sums do not depend on it anyway, so the
outputs are byte-identical to a local run. A worker that dies has its tasks rerun
elsewhere by Dask, with the same random streams and so the same result.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from simulator.engine.backends import LocalBackend, Progress
from simulator.engine.ensemble import Ensemble, TILE_CELLS, _run_window, assemble
from simulator.engine.tiles import tile_kernels
from simulator.errors import InputError
from simulator.inputs.prepare import Setup
from simulator.kernels import strike_table as T
from simulator.release.land_release import Plan, run_land_release



def expected_duds(tile) -> float:
    """The expected remnants one realization of ``tile``'s strikes places: a measure of its work."""
    f, ti = tile.f, tile.ti
    return float(np.sum(ti[:, T.CARRIERS] * ti[:, T.SUBMUNITIONS] * f[:, T.DUD_MEAN]))


def _distributed():
    try:
        import distributed
    except ImportError:
        raise InputError(None, "--workers", None, "install it with: pip install 'remnant[dask]'",
                         problem="needs dask.distributed, which is not installed;") from None
    return distributed


def _ensemble_chunk(setup: Setup, n: int, first: int) -> Ensemble:
    return LocalBackend(threads=1).ensemble(setup, n, first, None)


def _ensemble_tile(tile, n: int, first: int, batch_size: int) -> tuple:
    """A tile's ensemble, sparse: only cells that ever held a remnant travel back to the client."""
    import numba

    numba.set_num_threads(1)
    ensemble = _run_window(tile, n, first, 1, batch_size, None)
    cells = np.flatnonzero(ensemble.sum_count).astype(np.int32)
    return (cells, ensemble.sum_count[cells], ensemble.sum_sq[cells], ensemble.hits[:, cells], ensemble.zone_items,
            ensemble.zone_cells, ensemble.totals)


def _dense(tile, n: int, sparse: tuple) -> Ensemble:
    """The tile's ensemble from its sparse form."""
    cells, sum_count, sum_sq, hits, zone_items, zone_cells, totals = sparse
    size = tile.n_cells
    dense = Ensemble(n, np.zeros(size, np.int64), np.zeros(size, np.int64), np.zeros((tile.n_epochs, size), np.int32),
                     zone_items, zone_cells, totals)
    dense.sum_count[cells], dense.sum_sq[cells], dense.hits[:, cells] = sum_count, sum_sq, hits
    return dense


def _release_chunk(setup: Setup, plan: Plan, n: int, first: int) -> np.ndarray:
    return run_land_release(setup, plan, n, first, 1, setup.scenario.simulation.batch_size, None)


@dataclass
class DaskBackend:
    """Realizations run as tasks on a Dask cluster: a local one of ``workers`` processes, or ``scheduler``'s."""

    workers: int | None = None
    scheduler: str | None = None
    chunks_per_worker: int = 4
    tile_cells: int = TILE_CELLS // 4
    _client: object = field(default=None, init=False, repr=False)
    _cluster: object = field(default=None, init=False, repr=False)

    @property
    def client(self):
        if self._client is None:
            distributed = _distributed()
            if self.scheduler is not None:
                try:
                    self._client = distributed.Client(self.scheduler, timeout="20s")
                except (OSError, ValueError, TypeError) as exc:  # unreachable, or not an address
                    raise InputError(None, "--scheduler", self.scheduler, "check the address and that the scheduler runs",
                                     problem=f"cannot be reached ({exc});") from None
            else:
                self._cluster = distributed.LocalCluster(
                    n_workers=self.workers, threads_per_worker=1, processes=True, dashboard_address=":0",
                )
                self._client = distributed.Client(self._cluster)
        return self._client

    def _n_workers(self) -> int:
        return max(1, len(self.client.scheduler_info()["workers"]))

    def _chunks(self, n: int, first: int) -> list[tuple[int, int]]:
        size = max(1, -(-n // (self._n_workers() * self.chunks_per_worker)))
        return [(start, min(size, first + n - start)) for start in range(first, first + n, size)]

    def _gather(self, futures: list, progress: Progress, sizes: list[int]) -> list:
        distributed = _distributed()
        index = {future.key: k for k, future in enumerate(futures)}
        results = [None] * len(futures)
        for future in distributed.as_completed(futures):
            k = index[future.key]
            results[k] = future.result()
            if progress is not None:
                progress(sizes[k])
        return results

    def ensemble(self, setup: Setup, n: int, first: int, progress: Progress) -> Ensemble:
        """Realizations ``first .. first + n - 1`` of the contamination pass, as Dask tasks."""
        client = self.client
        kernel = setup.kernel
        batch = setup.scenario.simulation.batch_size
        if max(kernel.nx, kernel.ny) > self.tile_cells:
            tiles = tile_kernels(kernel, self.tile_cells)
            futures = [  # the heaviest tiles first, so that no worker is left with a big one at the end
                client.submit(_ensemble_tile, tile, n, first, batch, pure=False, priority=int(expected_duds(tile)))
                for tile in tiles
            ]
            tile_of = {future.key: tile for future, tile in zip(futures, tiles)}
            done = ((tile_of[f.key], _dense(tile_of[f.key], n, f.result())) for f in _distributed().as_completed(futures))
            return assemble(kernel, n, done, len(tiles), progress)
        shared = client.scatter(replace(setup, land_use=None), broadcast=True, hash=False)
        chunks = self._chunks(n, first)
        futures = [client.submit(_ensemble_chunk, shared, size, start, pure=False) for start, size in chunks]
        parts = self._gather(futures, progress, [size for _, size in chunks])
        merged = parts[0]
        for part in parts[1:]:
            merged = merged.merge(part)
        return merged

    def release(self, setup: Setup, plan: Plan, n: int, first: int, progress: Progress) -> np.ndarray:
        """Land-release state of realizations ``first .. first + n - 1``, as Dask tasks."""
        client = self.client
        shared = client.scatter([(replace(setup, land_use=None), plan)], broadcast=True, hash=False)[0]
        chunks = self._chunks(n, first)
        futures = [client.submit(lambda both, size, start: _release_chunk(*both, size, start), shared, size, start,
                                 pure=False) for start, size in chunks]
        return np.concatenate(self._gather(futures, progress, [size for _, size in chunks]))

    def close(self) -> None:
        """Close the client, and the local cluster if this backend started one."""
        if self._client is not None:
            self._client.close()
        if self._cluster is not None:
            self._cluster.close()
        self._client = self._cluster = None
