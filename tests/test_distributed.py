"""The Dask backend on a LocalCluster: identical bytes to a local run, even when a worker dies."""

from __future__ import annotations

import os
import signal

import distributed
import numpy as np
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


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as c:
        yield c


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    folder = tmp_path_factory.mktemp("dask")
    text = TINY_TOML.replace("[hazard]", CLEARANCE + "\n[hazard]").replace("end = 2025-01-01", "end = 2027-01-01")
    return prepare(load_scenario(write_tiny(folder, text), ["simulation.realizations=120"]))


def outputs(result, folder):
    write_outputs(result, folder)
    return {name: (folder / name).read_bytes() for name in COMPARED}


def test_dask_run_is_byte_identical_to_local(cluster, scenario, tmp_path):
    local = outputs(run(scenario, backend=LocalBackend(threads=2)), tmp_path / "local")
    backend = DaskBackend(scheduler=cluster.scheduler_address, chunks_per_worker=3)
    try:
        seen = []
        dask = outputs(run(scenario, backend=backend, progress=seen.append), tmp_path / "dask")
    finally:
        backend.close()
    assert dask == local
    assert sum(seen) == 2 * 120


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
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as c:
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
