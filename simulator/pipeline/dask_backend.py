"""The Dask backend: realizations or tiles run as tasks on a dask.distributed cluster.

``remnant run --workers N`` starts a local cluster of N single-threaded worker processes;
``--scheduler ADDRESS`` joins a running one. Dask workers run whatever functions a client
sends them, so nothing is left open: the local cluster listens on 127.0.0.1 only, its
connections use TLS with a throwaway certificate, and its dashboard is off unless asked for;
a remote scheduler must be ``tls://`` with certificates, and a plain ``tcp://`` one beyond
this machine is refused, before any connection, unless the user says ``insecure``.

Small grids are split into chunks of realizations; grids run in tiles are split into tiles,
so no worker holds the whole grid. Results are merged in a fixed order, and integer sums do
not depend on it anyway, so the outputs are byte-identical to a local run. A worker that dies
has its tasks rerun elsewhere by Dask, with the same random streams and so the same result.
"""

from __future__ import annotations

import importlib.util
import ipaddress
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np

from simulator.engine.ensemble import Ensemble, _run_window, assemble
from simulator.engine.layout import GROUPS
from simulator.engine.prepare import Setup
from simulator.engine.tiles import tile_kernels
from simulator.errors import InputError
from simulator.kernels import strike_table as T
from simulator.pipeline.backends import LocalBackend, Progress
from simulator.release.land_release import Plan, ReleaseSums, score_plan
from simulator.release.zone_items import Extra

DASK_TILE_CELLS = 512
"""Side of the tiles (cells) a Dask task runs in the contamination pass (the national campaign: 96 tiles)."""
LOOPBACK = "127.0.0.1"
"""Where the local cluster's scheduler, nannies, workers and dashboard listen."""

TLS_OPTIONS = {  # Security's argument -> (remnant's option, Dask's configuration key)
    "tls_ca_file": ("--tls-ca-file", "distributed.comm.tls.ca-file"),
    "tls_client_cert": ("--tls-cert", "distributed.comm.tls.client.cert"),
    "tls_client_key": ("--tls-key", "distributed.comm.tls.client.key"),
}

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


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or an IPv4/IPv6 address) is this machine's loopback interface."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def scheduler_security(address: str, tls: dict[str, Path | None], insecure: bool):
    """The ``distributed.security.Security`` to join ``address`` with (None: plain TCP), or a one-line refusal.

    ``tls`` maps ``TLS_OPTIONS``'s keys to the files given as options; those not given are
    taken from Dask's configuration. Nothing here connects to anything.
    """
    scheme, _, location = address.rpartition("://")
    scheme = scheme.lower() or "tcp"
    host = urlsplit(f"//{location}").hostname or ""
    given = {key: str(path) for key, path in tls.items() if path is not None}
    if scheme != "tls":
        if given:
            raise InputError(None, "--scheduler", address, "give a tls:// address to use the certificates",
                             problem="is not a tls:// address but --tls-* options were given;")
        if not (scheme == "tcp" and is_loopback(host)) and not insecure:
            raise InputError(None, "--scheduler", address, "use tls:// with --tls-ca-file, --tls-cert and --tls-key "
                             "(see docs/cluster.md), or add --insecure if every machine that reaches it is trusted",
                             problem="is an unencrypted, unauthenticated address beyond this machine: anyone "
                                     "who reaches it can run code on every worker;")
        return None
    security = _distributed().security.Security(require_encryption=True, **given)
    for key, (option, config) in TLS_OPTIONS.items():
        value = getattr(security, key)
        from_config = key not in given and value is not None
        _check_pem_file(value, f"{config} (Dask configuration)" if from_config else option, key != "tls_client_key")
    _check_key_pair(security)
    return security


def _check_pem_file(value: str | None, field: str, required: bool) -> None:
    if value is None:
        if required:
            raise InputError(None, field, None, "give --tls-ca-file, --tls-cert and --tls-key, or set them in "
                             "Dask's configuration (distributed.comm.tls.*)",
                             problem="is missing for a tls:// scheduler;")
        return
    if "\n" not in value and not Path(value).is_file():  # Dask also accepts the PEM text itself
        raise InputError(None, field, value, "give the path of a PEM file", problem="is not a readable file;")


def _check_key_pair(security) -> None:
    """Load the CA, certificate and key as Dask will, so that a bad one is named before connecting."""
    context = ssl.create_default_context(purpose=ssl.Purpose.SERVER_AUTH)
    ca = security.tls_ca_file
    try:
        context.load_verify_locations(**({"cadata": ca} if "\n" in ca else {"cafile": ca}))
    except (ssl.SSLError, OSError, ValueError) as exc:
        raise InputError(None, "--tls-ca-file", ca, "give the cluster's CA certificate in PEM form",
                         problem=f"cannot be loaded ({exc});") from None
    cert, key = security.tls_client_cert, security.tls_client_key
    if "\n" in cert or (key is not None and "\n" in key):
        return  # PEM text from Dask's configuration: Dask itself loads it
    try:
        context.load_cert_chain(cert, key)
    except (ssl.SSLError, OSError) as exc:
        raise InputError(None, "--tls-cert", cert, "give a PEM certificate and its private key (--tls-key)",
                         problem=f"cannot be loaded with its key ({exc});") from None


def _require(package: str, option: str, why: str, install: str) -> None:
    if importlib.util.find_spec(package) is None:
        raise InputError(None, option, None, f"install it with: pip install '{install}'",
                         problem=f"needs the {package} package, which {why}, and it is not installed;")


def _ensemble_chunk(setup: Setup, n: int, first: int) -> Ensemble:
    return LocalBackend(threads=1).ensemble(setup, n, first, None)


def _ensemble_tile(tile, n: int, first: int, batch_size: int) -> tuple:
    """A tile's ensemble, sparse: only cells that ever held a remnant travel back to the client."""
    import numba

    numba.set_num_threads(1)
    ensemble = _run_window(tile, n, first, 1, batch_size, None)
    cells = np.flatnonzero(ensemble.group_contaminated().any(axis=0)).astype(np.int32)  # every cell contaminated
    return (cells, ensemble.sum_count[cells], ensemble.sum_sq[cells], ensemble.hits[:, cells], ensemble.zone_items,
            ensemble.zone_cells, ensemble.totals, ensemble.group_hits[:, :, cells])


def _dense(tile, n: int, sparse: tuple) -> Ensemble:
    """The tile's ensemble from its sparse form."""
    cells, sum_count, sum_sq, hits, zone_items, zone_cells, totals, group_hits = sparse
    size = tile.n_cells
    dense = Ensemble(n, np.zeros(size, np.int64), np.zeros(size, np.int64), np.zeros((tile.n_epochs, size), np.int32),
                     zone_items, zone_cells, totals, np.zeros((GROUPS, group_hits.shape[1], size), np.int32))
    dense.sum_count[cells], dense.sum_sq[cells], dense.hits[:, cells] = sum_count, sum_sq, hits
    dense.group_hits[:, :, cells] = group_hits
    return dense


def _release_chunk(setup: Setup, plan: Plan, n: int, first: int, extra: Extra | None = None) -> ReleaseSums:
    """A chunk of the land-release pass on one worker thread (tiled there as locally), counting ``extra`` too."""
    return score_plan(setup, plan, n, first, 1, setup.scenario.simulation.batch_size, None, extra=extra)


@dataclass
class DaskBackend:
    """Realizations run as tasks on a Dask cluster: a local one of ``workers`` processes, or ``scheduler``'s.

    ``dashboard`` serves the local cluster's dashboard on 127.0.0.1 and passes its address
    (or the remote scheduler's) to ``announce``. ``tls_ca_file``, ``tls_cert`` and ``tls_key``
    secure a ``tls://`` scheduler; ``insecure`` allows a plain ``tcp://`` one beyond loopback.
    The address and certificates are checked when the backend is made, before any connection.
    """

    workers: int | None = None
    scheduler: str | None = None
    chunks_per_worker: int = 4
    tile_cells: int = DASK_TILE_CELLS
    dashboard: bool = False
    tls_ca_file: Path | None = None
    tls_cert: Path | None = None
    tls_key: Path | None = None
    insecure: bool = False
    announce: Callable[[str], None] | None = None
    _security: object = field(default=None, init=False, repr=False)
    _client: object = field(default=None, init=False, repr=False)
    _cluster: object = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        _distributed()
        tls = {"tls_ca_file": self.tls_ca_file, "tls_client_cert": self.tls_cert, "tls_client_key": self.tls_key}
        if self.scheduler is not None:
            self._security = scheduler_security(self.scheduler, tls, self.insecure)
        else:
            for key, path in tls.items():
                if path is not None:
                    raise InputError(None, TLS_OPTIONS[key][0], str(path), "use it with --scheduler tls://HOST:PORT",
                                     problem="is for a remote scheduler; the local cluster makes its own certificate;")
            _require("cryptography", "--workers", "makes a throwaway certificate for the local cluster's connections",
                     "remnant[dask]")
        if self.dashboard and self.scheduler is None:
            _require("bokeh", "--dashboard", "draws the dashboard", "bokeh>=3.1")

    @property
    def client(self):
        if self._client is None:
            distributed = _distributed()
            if self.scheduler is not None:
                try:
                    self._client = distributed.Client(self.scheduler, timeout="20s", security=self._security)
                except (OSError, ValueError, TypeError) as exc:  # unreachable, or not an address
                    raise InputError(None, "--scheduler", self.scheduler, "check the address, the certificates and "
                                     "that the scheduler runs", problem=f"cannot be reached ({exc});") from None
            else:
                self._cluster = distributed.LocalCluster(
                    n_workers=self.workers, threads_per_worker=1, processes=True, host=LOOPBACK,
                    dashboard_address=f"{LOOPBACK}:0", scheduler_kwargs={"dashboard": self.dashboard},
                    worker_dashboard_address=None, security=distributed.security.Security.temporary(),
                )
                self._client = distributed.Client(self._cluster)
            if self.dashboard and self.announce is not None:
                self.announce(self._client.dashboard_link or "the scheduler serves no dashboard")
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

    def release(self, setup: Setup, plan: Plan, n: int, first: int, progress: Progress,
                extra: Extra | None = None) -> ReleaseSums:
        """Land release in realizations ``first .. first + n - 1``, as Dask tasks of realization
        chunks, each tiled on its worker as a local run is, counting ``extra``'s zones too (it travels to
        every worker once, with the plan); merged in realization order."""
        client = self.client
        shared = client.scatter([(replace(setup, land_use=None), plan, extra)], broadcast=True, hash=False)[0]
        chunks = self._chunks(n, first)
        futures = [client.submit(lambda inputs, size, start: _release_chunk(*inputs[:2], size, start, inputs[2]),
                                 shared, size, start, pure=False) for start, size in chunks]
        return ReleaseSums.concat(self._gather(futures, progress, [size for _, size in chunks]))

    def close(self) -> None:
        """Close the client, and the local cluster if this backend started one."""
        if self._client is not None:
            self._client.close()
        if self._cluster is not None:
            self._cluster.close()
        self._client = self._cluster = None
