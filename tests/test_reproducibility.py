"""Same scenario and seed, same bytes: across threads, batch sizes, checkpoints, kills and resumes."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import call_remnant, write_tiny

COMPARED = ("density.tif", "p_contaminated.tif", "landuse.tif", "hazardous_area.csv")


def spawn(*args, **kwargs) -> subprocess.Popen:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    return subprocess.Popen([sys.executable, "-m", "simulator", *map(str, args)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)


def finished(*args) -> subprocess.CompletedProcess:
    process = spawn(*args)
    out, err = process.communicate(timeout=300)
    assert process.returncode == 0, err
    return subprocess.CompletedProcess(args, process.returncode, out, err)


def same_bytes(a: Path, b: Path, names=COMPARED) -> None:
    for name in names:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Path:
    """The tiny scenario run three ways (one thread; two; two with batches of 3 and a checkpoint every
    7 realizations) into the folder's ``one-thread``, ``two-threads`` and ``small-batches``."""
    folder = tmp_path_factory.mktemp("runs")
    tiny = write_tiny(folder)
    for name, extra in {
        "one-thread": ["--threads", "1"],
        "two-threads": ["--threads", "2"],
        "small-batches": ["--threads", "2", "--set", "simulation.batch_size=3", "--checkpoint-every", "7"],
    }.items():
        code, _, stderr = call_remnant("run", tiny, "--out", folder / name, "--quiet", *extra)
        assert code == 0, stderr
    return folder


def test_threads_batches_and_checkpoints_do_not_change_outputs(runs):
    same_bytes(runs / "one-thread", runs / "two-threads")
    same_bytes(runs / "one-thread", runs / "small-batches")


def test_different_seeds_differ(remnant, runs, tmp_path):
    assert remnant("run", runs / "tiny.toml", "--out", tmp_path / "8", "--quiet", "--seed", "8")[0] == 0  # the file says 7
    assert (runs / "one-thread" / "density.tif").read_bytes() != (tmp_path / "8" / "density.tif").read_bytes()


def test_check_reruns_and_compares(remnant, runs, tmp_path):
    out = tmp_path / "run"
    shutil.copytree(runs / "two-threads", out)
    code, stdout, _ = remnant("run", "--check", out, "--threads", "1")
    assert code == 0 and "byte-identical" in stdout
    (out / "hazardous_area.csv").write_text("tampered\n")
    code, stdout, _ = remnant("run", "--check", out)
    assert code == 1 and "DIFFERS" in stdout and "hazardous_area.csv" in stdout


def wait_for(path: Path, process: subprocess.Popen, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert process.poll() is None, process.communicate()[1]
        assert time.monotonic() < deadline, "no checkpoint appeared"
        time.sleep(0.05)


@pytest.fixture(scope="module")
def long_run(tmp_path_factory):
    """A scenario long enough to interrupt, and its uninterrupted outputs."""
    folder = tmp_path_factory.mktemp("long")
    args = ["run", write_tiny(folder), "--realizations", "30000", "--checkpoint-every", "1000", "--quiet"]
    finished(*args, "--out", folder / "reference")
    return args, folder / "reference"


@pytest.mark.slow
@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGINT], ids=["killed", "ctrl-c"])
def test_interrupted_run_resumes_to_identical_outputs(long_run, tmp_path, how):
    args, reference = long_run
    out = tmp_path / "interrupted"
    process = spawn(*args, "--out", out)
    wait_for(tmp_path / ".interrupted.checkpoint" / "ensemble.npz", process)
    process.send_signal(how)
    _, err = process.communicate(timeout=60)
    assert process.returncode != 0, f"the run finished before it could be interrupted: {err}"
    if how == signal.SIGINT:
        assert process.returncode == 130 and "--resume" in err and "Traceback" not in err
    assert not out.exists()
    finished(*args, "--out", out, "--resume")
    same_bytes(reference, out)
    assert not (tmp_path / ".interrupted.checkpoint").exists()


def test_resume_without_a_checkpoint_is_refused(remnant, tiny, tmp_path):
    code, _, stderr = remnant("run", tiny, "--out", tmp_path / "none", "--resume")
    assert code == 2 and "--resume" in stderr and not (tmp_path / "none").exists()
