"""Faults: killed runs, concurrent runs, a full disk, and outputs that are byte-identical between runs.

Kills are real (SIGKILL of a subprocess, sent by the process to itself at a chosen point, so
that the test does not depend on timing).
"""

from __future__ import annotations

import errno
import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from simulator.outputs.staging import hold
from tests.test_strike_records import records_scenario

pytestmark = pytest.mark.slow  # whole processes run, killed and resumed: CI runs them with -m slow

TIMEOUT_S = 300


def killed_at(point: str, args: list[str], cwd: Path, how: signal.Signals = signal.SIGKILL) -> subprocess.CompletedProcess:
    """Run ``remnant args`` in a subprocess that SIGKILLs itself when ``point`` (``module:name`` or
    ``module:Class.method``) is called; a method runs first, so that the kill comes just after it."""
    module, name = point.split(":")
    owner, _, function = name.rpartition(".")
    code = textwrap.dedent(f"""
        import os, signal, sys
        import {module} as target
        owner = getattr(target, {owner!r}) if {owner!r} else target
        original = getattr(owner, {function!r})
        def die(*args, **kwargs):
            if {bool(owner)!r}:
                original(*args, **kwargs)
            os.kill(os.getpid(), {int(how)})
        setattr(owner, {function!r}, die)
        from simulator.cli.app import main
        sys.argv = ["remnant", *{args!r}]
        main()
    """)
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT_S)


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_a_run_killed_while_writing_leaves_nothing_after_the_next_run(remnant, tiny, tmp_path):
    out = tmp_path / "runs" / "out"
    proc = killed_at("simulator.outputs.writer:write_figures", ["run", str(tiny), "--out", str(out), "--quiet"], tmp_path)
    assert proc.returncode == -signal.SIGKILL
    left = leftovers(out.parent)
    assert any(name.startswith(".out.partial-") for name in left), left  # the kill left half-written outputs
    assert not out.exists()
    code, _, stderr = remnant("run", tiny, "--out", out, "--quiet")
    assert code == 0, stderr
    assert leftovers(out.parent) == [] and (out / "density.tif").is_file()


def test_a_run_terminated_while_writing_removes_its_staging_folder(tiny, tmp_path):
    out = tmp_path / "runs" / "out"
    proc = killed_at("simulator.outputs.writer:write_figures", ["run", str(tiny), "--out", str(out), "--quiet"], tmp_path,
                     signal.SIGTERM)
    assert proc.returncode == 130 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines() == [proc.stderr.strip()] and "interrupted" in proc.stderr
    assert leftovers(out.parent) == [] and not out.exists()


def test_a_run_killed_during_the_ensemble_can_be_resumed_and_leaves_nothing(remnant, tiny, tmp_path):
    out = tmp_path / "runs" / "out"
    proc = killed_at("simulator.pipeline.checkpoint:Checkpoint.save_ensemble",
                     ["run", str(tiny), "--out", str(out), "--quiet", "--checkpoint-every", "8"], tmp_path)
    assert proc.returncode == -signal.SIGKILL
    assert ".out.checkpoint" in leftovers(out.parent)
    code, _, stderr = remnant("run", tiny, "--out", out, "--quiet", "--resume")
    assert code == 0, stderr
    assert leftovers(out.parent) == []


def test_a_checkpoint_no_resume_can_use_is_removed(remnant, tiny, tmp_path):
    out = tmp_path / "runs" / "out"
    out.parent.mkdir()
    useless = out.parent / ".out.checkpoint"
    useless.mkdir()
    (useless / "identity.json").write_text("{}")  # started, but no realization was saved
    code, _, stderr = remnant("run", tiny, "--out", out, "--quiet", "--resume")
    assert code == 2 and "has no checkpoint" in stderr
    assert leftovers(out.parent) == []


def test_a_failed_run_leaves_no_checkpoint_without_progress(remnant, tiny, tmp_path, monkeypatch):
    out = tmp_path / "runs" / "out"

    def fail(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(out))

    monkeypatch.setattr("simulator.pipeline.run", fail)
    code, _, stderr = remnant("run", tiny, "--out", out, "--quiet")
    assert code == 3 and len(stderr.strip().splitlines()) == 1 and "no space left on device" in stderr
    assert leftovers(out.parent) == []


def holder(target: Path) -> subprocess.Popen:
    """A process that holds ``target``'s lock until killed."""
    code = f"from simulator.outputs.staging import hold; import time; hold({str(target)!r}); print('held', flush=True); " \
           "time.sleep(600)"
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_a_second_run_into_a_locked_folder_is_refused_in_one_line(remnant, tiny, tmp_path):
    out = tmp_path / "runs" / "out"
    first = holder(out)
    try:
        code, _, stderr = remnant("run", tiny, "--out", out, "--overwrite", "--quiet")
        assert code == 2 and len(stderr.strip().splitlines()) == 1, stderr
        assert "is being written by another run" in stderr and f"process {first.pid}" in stderr
        assert not out.exists()
    finally:
        first.kill()
        first.wait(TIMEOUT_S)
    code, _, stderr = remnant("run", tiny, "--out", out, "--overwrite", "--quiet")  # a dead holder blocks nobody
    assert code == 0, stderr
    assert leftovers(out.parent) == []


@pytest.mark.slow
def test_two_real_concurrent_runs(tiny, tmp_path):
    """The first run pauses while writing its outputs; a second real run into the folder is refused."""
    out = tmp_path / "runs" / "out"
    args = ["run", str(tiny), "--out", str(out), "--overwrite", "--quiet"]
    code = textwrap.dedent(f"""
        import sys, time
        import simulator.outputs.writer as writer
        writer.write_figures = lambda *args: time.sleep(600)
        from simulator.cli.app import main
        sys.argv = ["remnant", *{args!r}]
        main()
    """)
    first = subprocess.Popen([sys.executable, "-c", code], cwd=tmp_path)
    try:
        deadline = time.monotonic() + TIMEOUT_S
        while first.poll() is None and time.monotonic() < deadline and not (
                out.parent.exists() and any(n.startswith(".out.partial-") for n in leftovers(out.parent))):
            time.sleep(0.05)
        assert first.poll() is None, "the first run ended early"
        second = subprocess.run([sys.executable, "-m", "simulator", *args], capture_output=True, text=True,
                                timeout=TIMEOUT_S, cwd=tmp_path)
        assert second.returncode == 2 and "is being written by another run" in second.stderr, second.stderr
        assert len(second.stderr.strip().splitlines()) == 1 and "Traceback" not in second.stderr
        assert first.poll() is None  # the first run is untouched, still writing
    finally:
        first.kill()
        first.wait(TIMEOUT_S)


def test_the_lock_is_reentrant_within_a_process_and_released(tmp_path):
    target = tmp_path / "out"
    lock = hold(target)
    assert hold(target) is lock and (tmp_path / ".out.lock").is_file()
    lock.release()
    assert not (tmp_path / ".out.lock").exists()


def test_outputs_are_byte_identical_between_runs_geopackage_included(remnant, tiny, tmp_path):
    for name in ("a", "b"):
        code, _, stderr = remnant("run", tiny, "--out", tmp_path / name, "--quiet")
        assert code == 0, stderr
    files = sorted(str(p.relative_to(tmp_path / "a")) for p in (tmp_path / "a").rglob("*") if p.is_file())
    assert "hazard_areas.gpkg" in files and "imsma/hazards.geojson" in files and "report.html" in files
    differ = [f for f in files if (tmp_path / "a" / f).read_bytes() != (tmp_path / "b" / f).read_bytes()]
    assert set(differ) <= {"run.json"}  # its timings may differ, or by chance agree to the millisecond
    records = [json.loads((tmp_path / name / "run.json").read_text()) for name in ("a", "b")]
    for record in records:
        assert set(record.pop("timings_s")) >= {"ensemble"}
    assert records[0] == records[1]


@pytest.mark.parametrize(("mask", "folder_mode", "file_mode"), [(0o022, 0o755, 0o644), (0o077, 0o700, 0o600)])
def test_outputs_respect_the_umask(remnant, tiny, tmp_path, mask, folder_mode, file_mode):
    previous = os.umask(mask)
    try:
        code, _, stderr = remnant("run", tiny, "--out", tmp_path / "out", "--quiet", "--analytic")
    finally:
        os.umask(previous)
    assert code == 0, stderr
    assert stat.S_IMODE((tmp_path / "out").stat().st_mode) == folder_mode
    assert {stat.S_IMODE(p.stat().st_mode) for p in (tmp_path / "out").iterdir()} == {file_mode}


def test_resume_refuses_strike_records_changed_since_the_kill(remnant, tmp_path):
    path = records_scenario(tmp_path)
    out = tmp_path / "runs" / "out"
    proc = killed_at("simulator.pipeline.checkpoint:Checkpoint.save_ensemble",
                     ["run", str(path), "--out", str(out), "--quiet", "--checkpoint-every", "8"], tmp_path)
    assert proc.returncode == -signal.SIGKILL and ".out.checkpoint" in leftovers(out.parent)
    records = tmp_path / "strikes.csv"
    records.write_text(records.read_text().replace(",6,", ",60,", 1))
    code, _, stderr = remnant("run", path, "--out", out, "--quiet", "--resume")
    assert code == 2 and len(stderr.strip().splitlines()) == 1 and "--resume" in stderr


def test_help_uses_the_terminal_width(remnant, monkeypatch):
    monkeypatch.setenv("COLUMNS", "150")
    code, stdout, _ = remnant("run", "--help")
    assert code == 0
    assert max(len(line) for line in stdout.splitlines()) > 100
