"""The Dask backend on a LocalCluster: identical bytes to a local run, even when a worker dies; nothing
listens beyond loopback, and the dashboard is off unless asked for."""

from __future__ import annotations

import ipaddress
import os
import signal
import urllib.error
import urllib.request
from urllib.parse import urlsplit

import distributed
import numpy as np
import psutil
import pytest

from simulator.config.variants import load_scenario
from simulator.engine.prepare import prepare
from simulator.outputs.writer import write_outputs
from simulator.pipeline.backends import LocalBackend
from simulator.pipeline.dask_backend import DaskBackend
from simulator.pipeline.runner import run
from tests.conftest import TINY_TOML, write_tiny
from tests.test_land_release import CLEARANCE

COMPARED = ("density.tif", "p_contaminated.tif", "hazardous_area.csv", "land_release.csv", "completion.csv")
LOOPBACK_CLUSTER = dict(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                        dashboard_address="127.0.0.1:0")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(**LOOPBACK_CLUSTER) as c:
        yield c


def listening_sockets() -> list[tuple[int, str, int]]:
    """(pid, address, port) of every socket this process and its children listen on."""
    me = psutil.Process()
    found = []
    for process in [me, *me.children(recursive=True)]:
        try:
            connections = process.net_connections(kind="inet")
        except psutil.NoSuchProcess:
            continue
        found += [(process.pid, c.laddr.ip, c.laddr.port) for c in connections if c.status == psutil.CONN_LISTEN]
    return found


def http_status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    folder = tmp_path_factory.mktemp("dask")
    text = TINY_TOML.replace("[hazard]", CLEARANCE + "\n[hazard]").replace("end = 2025-01-01", "end = 2027-01-01")
    return prepare(load_scenario(write_tiny(folder, text), ["simulation.realizations=120"]))


def outputs(result, folder):
    write_outputs(result, folder)
    return {name: (folder / name).read_bytes() for name in COMPARED}


def test_dask_run_is_byte_identical_to_local(cluster, scenario, tmp_path):
    local_result = run(scenario, backend=LocalBackend(threads=2))
    local = outputs(local_result, tmp_path / "local")
    backend = DaskBackend(scheduler=cluster.scheduler_address, chunks_per_worker=3)
    try:
        seen = []
        dask_result = run(scenario, backend=backend, progress=seen.append)
        dask = outputs(dask_result, tmp_path / "dask")
    finally:
        backend.close()
    assert dask == local
    assert sum(seen) == 2 * 120
    # the polygons' items were counted in the land-release pass on the workers, as locally
    counts = dask_result.land_release.zone_counts, local_result.land_release.zone_counts
    assert counts[0] is not None and counts[0].digest == counts[1].digest
    assert np.array_equal(counts[0].items, counts[1].items)


def test_tiled_dask_run_matches_local(cluster, scenario):
    local = run(scenario, backend=LocalBackend(threads=1)).ensemble
    backend = DaskBackend(scheduler=cluster.scheduler_address, tile_cells=16)
    try:
        tiled = run(scenario, backend=backend).ensemble
    finally:
        backend.close()
    for name in ("sum_count", "sum_sq", "hits", "zone_items", "zone_cells", "totals"):
        np.testing.assert_array_equal(getattr(tiled, name), getattr(local, name), err_msg=name)


def test_a_killed_worker_does_not_change_the_result(scenario, tmp_path):
    big = prepare(load_scenario(scenario.loaded.path, ["simulation.realizations=3000"]))
    local = outputs(run(big, backend=LocalBackend(threads=2)), tmp_path / "local")
    with distributed.LocalCluster(**LOOPBACK_CLUSTER) as c:
        backend = DaskBackend(scheduler=c.scheduler_address, chunks_per_worker=20)
        try:
            pids = backend.client.run(os.getpid)
            victim = sorted(pids.values())[0]
            killed = []

            def kill_once(n):
                if not killed:
                    os.kill(victim, signal.SIGKILL)
                    killed.append(victim)

            dask = outputs(run(big, backend=backend, progress=kill_once), tmp_path / "dask")
            assert victim not in backend.client.run(os.getpid).values()
        finally:
            backend.close()
    assert killed and dask == local


@pytest.mark.parametrize("dashboard", [False, True])
def test_a_local_cluster_listens_on_loopback_only(scenario, dashboard):
    urls, seen = [], []
    backend = DaskBackend(workers=2, dashboard=dashboard, announce=urls.append)

    def snapshot(n):
        if not seen:
            seen.extend(listening_sockets())
            seen.append(set(backend.client.run(os.getpid).values()))
            seen.append(http_status(backend.client.dashboard_link))

    try:
        run(scenario, backend=backend, progress=snapshot)
        scheduler = urlsplit(backend.client.scheduler.address)
        dashboard_port = urlsplit(backend.client.dashboard_link).port
    finally:
        backend.close()
    status, workers, sockets = seen.pop(), seen.pop(), seen
    assert scheduler.scheme == "tls" and scheduler.hostname == "127.0.0.1"
    assert len(workers) == 2 and workers <= {pid for pid, _, _ in sockets}, "the snapshot must see both workers"
    assert {scheduler.port, dashboard_port} <= {port for _, _, port in sockets}
    beyond = [(pid, ip, port) for pid, ip, port in sockets if not ipaddress.ip_address(ip).is_loopback]
    assert beyond == [], "sockets listening beyond loopback"
    if dashboard:
        assert status == 200, "the dashboard is served"
        assert len(urls) == 1 and urlsplit(urls[0]).hostname == "127.0.0.1" and urlsplit(urls[0]).port == dashboard_port
    else:
        assert status == 404 and urls == [], "no dashboard unless asked for"


def test_remnant_run_workers_dashboard_prints_a_loopback_address(tiny, tmp_path, remnant):
    code, _, err = remnant("run", tiny, "--out", tmp_path / "dask", "--quiet", "--workers", "2", "--dashboard")
    assert code == 0, err
    lines = [line for line in err.splitlines() if line.startswith("dask dashboard: ")]
    assert len(lines) == 1 and urlsplit(lines[0].split(": ", 1)[1]).hostname == "127.0.0.1"
    assert remnant("run", tiny, "--out", tmp_path / "local", "--quiet")[0] == 0
    for name in ("density.tif", "p_contaminated.tif", "hazardous_area.csv", "hazardous_area_by_class.csv"):
        assert (tmp_path / "dask" / name).read_bytes() == (tmp_path / "local" / name).read_bytes(), name
