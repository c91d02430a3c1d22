"""A corpus of bad inputs by class, generated in code: each fails in one stderr line, with its exit code.

Every case runs the command line in-process (``main()`` with patched argv) and checks the exit
code (2 bad input or usage, 3 environment failure, 4 internal error), exactly one line on
stderr starting ``remnant: error:``, no traceback, the expected fragments, and that nothing
was written beside the output folder. A SIGALRM guard fails a case that hangs.
"""

from __future__ import annotations

import errno
import gzip
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import TINY_TOML, write_tiny
from tests.test_strike_records import HEADER, ROWS, records_scenario

TIME_LIMIT_S = 120
"""A case still running after this long hangs (named pipes, endless runs): it fails."""

BAD_INPUT, ENVIRONMENT, INTERNAL = 2, 3, 4


@pytest.fixture(autouse=True)
def hang_guard():
    def hung(signum, frame):
        raise TimeoutError(f"the case ran for more than {TIME_LIMIT_S} s")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(TIME_LIMIT_S)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


@pytest.fixture
def runs(tmp_path) -> Path:
    """An empty folder for --out, so that anything written beside the output folder is seen."""
    folder = tmp_path / "runs"
    folder.mkdir()
    return folder


def assert_one_line(result, code: int, fragments, runs: Path | None = None) -> str:
    status, stdout, stderr = result
    assert "Traceback" not in stderr and "Traceback" not in stdout, stderr
    assert status == code, f"exit code {status}, expected {code}; stderr: {stderr}"
    lines = stderr.strip("\n").splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got:\n{stderr}"
    assert lines[0].startswith("remnant: error: "), lines[0]
    for fragment in fragments:
        assert fragment in lines[0], f"{fragment!r} not in: {lines[0]}"
    if runs is not None:
        assert list(runs.iterdir()) == [], f"written beside the output folder: {list(runs.iterdir())}"
    return lines[0]


# --- 1. usage errors: typer's own click -------------------------------------------------------------

USAGE = [
    (["run", "--threads", "0"], ["--threads", "greater than or equal to 1"]),
    (["run", "--threads", "-3"], ["--threads"]),
    (["run", "--threads", "many"], ["--threads"]),
    (["run", "--realizations", "0"], ["--realizations"]),
    (["run", "--realizations", "1.5"], ["--realizations"]),
    (["run", "--seed", "-1"], ["--seed"]),
    (["run", "--checkpoint-every", "0"], ["--checkpoint-every"]),
    (["run", "--workers", "0"], ["--workers"]),
    (["run", "--bogus"], ["No such option: --bogus", "remnant run --help"]),
    (["run", "--out"], ["--out", "requires an argument"]),
    (["run", "a.toml", "b.toml"], ["unexpected extra argument", "b.toml"]),
    (["run", "--set"], ["--set"]),
    (["run", "--debug"], ["No such option: --debug"]),
    (["validate"], ["Missing argument", "scenario"]),
    (["validate", "--bogus", "x.toml"], ["No such option: --bogus"]),
    (["validate", "a.toml", "b.toml"], ["unexpected extra argument"]),
    (["init"], ["Missing argument"]),
    (["catalog", "extra"], ["unexpected extra argument"]),
    (["catalog", "--bogus"], ["No such option"]),
    (["schema", "--bogus"], ["No such option"]),
    (["frobnicate"], ["No such command 'frobnicate'"]),
    (["--bogus", "run"], ["No such option: --bogus"]),
    (["sweep", "--bogus"], ["No such option"]),
    (["sweep", "--param", "hazard.threshold"], ["Missing option", "--values"]),
    (["sensitivity", "--bogus"], ["No such option"]),
    (["sensitivity", "--samples", "many"], ["--samples"]),
]


@pytest.mark.parametrize(("args", "fragments"), USAGE, ids=[" ".join(a) for a, _ in USAGE])
def test_usage_errors_are_one_line(remnant, args, fragments):
    assert_one_line(remnant(*args), BAD_INPUT, fragments)


# --- 1. output and checkpoint folders -----------------------------------------------------------------


def _out_cases(runs: Path) -> dict:
    (runs.parent / "a-file").write_text("x")
    (runs.parent / "existing").mkdir()
    return {
        "parent is a file": (runs.parent / "a-file" / "out", [], ["a-file", "is a file"]),
        "out is a file": (runs.parent / "a-file", ["--overwrite"], ["is a file"]),
        "out exists": (runs.parent / "existing", [], ["already holds outputs", "--overwrite"]),
        "name of 250 characters": (runs / ("n" * 250), [], ["too long"]),
        "component of 300 characters": (runs / ("n" * 300) / "out", [], ["too long"]),
        "under /proc": (Path("/proc/remnant-corpus/out"), [], ["--out", "/proc"]),
        "under /dev/null": (Path("/dev/null/out"), [], ["/dev/null", "is a file"]),
    }


@pytest.mark.parametrize("case", ["parent is a file", "out is a file", "out exists", "name of 250 characters",
                                  "component of 300 characters", "under /proc", "under /dev/null"])
def test_unusable_output_folders(remnant, tiny, runs, case):
    out, extra, fragments = _out_cases(runs)[case]
    assert_one_line(remnant("run", tiny, "--out", out, "--realizations", "2", *extra), BAD_INPUT, fragments, runs)


OS_ERRORS = [errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EROFS, errno.EIO, errno.ENAMETOOLONG]


@pytest.mark.parametrize("code", OS_ERRORS, ids=[errno.errorcode[c] for c in OS_ERRORS])
def test_os_errors_while_writing_are_one_line_and_leave_nothing(remnant, tiny, runs, monkeypatch, code):
    def fail(result, folder):
        (folder / "density.tif").write_bytes(b"half")  # half-written, as a full disk leaves it
        raise OSError(code, os.strerror(code), str(folder / "density.tif"))

    monkeypatch.setattr("simulator.outputs.writer.write_rasters", fail)
    line = assert_one_line(remnant("run", tiny, "--out", runs / "out", "--realizations", "2", "--quiet"),
                           ENVIRONMENT, ["density.tif", os.strerror(code).lower(), "no outputs were written"])
    assert list(runs.iterdir()) == [], line


def test_full_disk_in_the_analytic_preview(remnant, tiny, runs, monkeypatch):
    def fail(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), "density.tif")

    monkeypatch.setattr("simulator.outputs.writer.write_geotiff", fail)
    assert_one_line(remnant("run", tiny, "--out", runs / "out", "--analytic"), ENVIRONMENT, ["no space left"], runs)


def test_out_of_memory_is_one_line(remnant, tiny, runs, monkeypatch):
    def fail(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr("simulator.pipeline.run", fail)
    assert_one_line(remnant("run", tiny, "--out", runs / "out", "--quiet"), ENVIRONMENT, ["out of memory"], runs)


def test_a_bug_is_one_line_and_debug_shows_its_traceback(remnant, tiny, runs, monkeypatch):
    def fail(*args, **kwargs):
        raise RuntimeError("a bug\nover two lines")

    monkeypatch.setattr("simulator.pipeline.run", fail)
    assert_one_line(remnant("run", tiny, "--out", runs / "out", "--quiet"), INTERNAL, ["internal error", "RuntimeError", "--debug"],
                    runs)
    code, _, stderr = remnant("--debug", "run", tiny, "--out", runs / "out")
    assert code == INTERNAL and "Traceback" in stderr and stderr.strip().splitlines()[-1].startswith("remnant: error:")


# --- 1. --check of a run folder ---------------------------------------------------------------------

RUN_RECORDS = {
    "truncated JSON": b"{",
    "empty object": b"{}",
    "a list": b"[]",
    "null": b"null",
    "scenario not text": b'{"scenario": 5}',
    "scenario missing": b'{"scenario": "missing.toml", "scenario_sha256": "0"}',
    "binary": b"\x00\xff\xfe garbage",
    "overrides not a list": None,  # filled in with the tiny scenario below
    "no hash": None,
}


@pytest.mark.parametrize("case", list(RUN_RECORDS))
def test_check_of_a_bad_run_record(remnant, tiny, tmp_path, case):
    folder = tmp_path / "old-run"
    folder.mkdir()
    record = RUN_RECORDS[case]
    if case == "overrides not a list":
        record = json.dumps({"scenario": str(tiny), "scenario_sha256": "0", "overrides": "x"}).encode()
    elif case == "no hash":
        record = json.dumps({"scenario": str(tiny)}).encode()
    (folder / "run.json").write_bytes(record)
    named = "missing.toml" if case == "scenario missing" else "run.json"
    assert_one_line(remnant("run", "--check", folder), BAD_INPUT, [named])


@pytest.mark.parametrize("case", ["no folder", "no run.json", "run.json is a folder"])
def test_check_of_a_missing_run(remnant, tmp_path, case):
    folder = tmp_path / "old-run"
    if case != "no folder":
        folder.mkdir()
    if case == "run.json is a folder":
        (folder / "run.json").mkdir()
    assert_one_line(remnant("run", "--check", folder), BAD_INPUT, ["run.json"])


@pytest.mark.parametrize(("address", "why"), [
    ("foo", "--insecure"),  # a bare host is plain TCP beyond this machine: refused before connecting
    ("://", "--insecure"),
    ("tcp://127.0.0.1:notaport", "check the address"),
])
def test_bad_scheduler_address(remnant, tiny, runs, address, why):
    assert_one_line(remnant("run", tiny, "--out", runs / "out", "--scheduler", address), BAD_INPUT,
                    ["--scheduler", why], runs)


# --- 1. damaged checkpoints ----------------------------------------------------------------------------


def interrupted_run(remnant, tiny, out, monkeypatch):
    """Run ``tiny`` into ``out`` and stop it (Ctrl-C) right after its first checkpoint."""
    from simulator.pipeline.checkpoint import Checkpoint

    save = Checkpoint.save_ensemble

    def save_then_stop(self, ensemble):
        save(self, ensemble)
        raise KeyboardInterrupt

    monkeypatch.setattr(Checkpoint, "save_ensemble", save_then_stop)
    code, _, _ = remnant("run", tiny, "--out", out, "--checkpoint-every", "8", "--quiet")
    monkeypatch.setattr(Checkpoint, "save_ensemble", save)
    assert code == 130
    folder = out.parent / f".{out.name}.checkpoint"
    assert (folder / "ensemble.npz").is_file()
    return folder


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty"])
def test_a_damaged_checkpoint_is_one_line_on_resume(remnant, tiny, runs, monkeypatch, damage):
    folder = interrupted_run(remnant, tiny, runs / "out", monkeypatch)
    saved = folder / "ensemble.npz"
    data = saved.read_bytes()
    saved.write_bytes({"garbage": b"not a zip file", "truncated": data[: len(data) // 2], "empty": b""}[damage])
    assert_one_line(remnant("run", tiny, "--out", runs / "out", "--resume", "--quiet"), BAD_INPUT,
                    ["checkpoint is damaged", "run without --resume"], runs)


def test_a_checkpoint_with_a_garbage_identity_cannot_be_resumed(remnant, tiny, runs, monkeypatch):
    folder = interrupted_run(remnant, tiny, runs / "out", monkeypatch)
    (folder / "identity.json").write_text("{")
    assert_one_line(remnant("run", tiny, "--out", runs / "out", "--resume", "--quiet"), BAD_INPUT,
                    ["--resume", "has no checkpoint"], runs)


def test_resume_without_a_checkpoint(remnant, tiny, runs):
    assert_one_line(remnant("run", tiny, "--out", runs / "out", "--resume", "--quiet"), BAD_INPUT,
                    ["--resume", "has no checkpoint"], runs)


# --- 2 and 9. strike-record rows: the rules of [[strikes]] --------------------------------------------

ROW = "A1,2024-03-02,dispenser-147,2,500300,4700600,40,0.1,0.03"
ALTITUDE = HEADER + ",function_altitude_m"
RECORD_ROWS = [
    ("duplicate id", [ROW, ROW.replace("500300", "500400")], HEADER, ["line 3, column id", "'A1'", "line 2"]),
    ("id of an inline strike", None, HEADER, ["column id", "strikes[0] of the scenario"]),
    ("empty id", [ROW.replace("A1,", ",", 1)], HEADER, ["line 2, column id", "is required"]),
    ("blank id", [ROW.replace("A1,", "  ,", 1)], HEADER, ["line 2, column id"]),
    ("spread too large", [ROW.replace("0.1,0.03", "0.1,0.4")], HEADER, ["column dud_spread", "sqrt"]),
    ("spread too small", [ROW.replace("0.1,0.03", "0.1,1e-12")], HEADER, ["column dud_spread", "spread = 0"]),
    ("spread no Beta allows for the profile's mean", [ROW.replace("0.1,0.03", ",0.45")], HEADER,
     ["column dud_spread", "too large"]),
    ("spread negative", [ROW.replace("0.1,0.03", "0.1,-0.1")], HEADER, ["column dud_spread"]),
    ("mean above one", [ROW.replace("0.1,0.03", "1.5,0")], HEADER, ["column dud_mean", "less than or equal to 1"]),
    ("mean negative", [ROW.replace("0.1,0.03", "-0.1,0")], HEADER, ["column dud_mean"]),
    ("mean text", [ROW.replace("0.1,0.03", "high,0")], HEADER, ["column dud_mean", "'high'"]),
    ("altitude for a rocket", [ROW.replace("dispenser-147", "rocket-220mm-30") + ",300"], ALTITUDE,
     ["column function_altitude_m", "no footprint_by_altitude"]),
    ("altitude of 50 km", [ROW.replace("dispenser-147", "dispenser-202") + ",50000"], ALTITUDE,
     ["column function_altitude_m", "use an altitude between"]),
    ("altitude negative", [ROW.replace("dispenser-147", "dispenser-202") + ",-5"], ALTITUDE,
     ["column function_altitude_m"]),
    ("carriers 1e30", [ROW.replace(",2,", ",1e30,", 1)], HEADER, ["column carriers", "2147483647"]),
    ("carriers 2**63", [ROW.replace(",2,", ",9223372036854775808,", 1)], HEADER, ["column carriers", "2147483647"]),
    ("carriers negative", [ROW.replace(",2,", ",-2,", 1)], HEADER, ["column carriers", "greater than or equal to 0"]),
    ("carriers fraction", [ROW.replace(",2,", ",2.5,", 1)], HEADER, ["column carriers", "whole number"]),
    ("carriers text", [ROW.replace(",2,", ",two,", 1)], HEADER, ["column carriers", "'two'"]),
    ("carriers empty", [ROW.replace(",2,", ",,", 1)], HEADER, ["column carriers", "required"]),
    ("carriers inf", [ROW.replace(",2,", ",inf,", 1)], HEADER, ["column carriers"]),
    ("profile unknown", [ROW.replace("dispenser-147", "dispenser-14")], HEADER, ["column profile", "did you mean"]),
    ("profile empty", [ROW.replace("dispenser-147", "")], HEADER, ["column profile"]),
    ("date not a date", [ROW.replace("2024-03-02", "2024-13-40")], HEADER, ["column date", "'2024-13-40'"]),
    ("date empty", [ROW.replace("2024-03-02", "")], HEADER, ["column date", "empty"]),
    ("date before the time axis", [ROW.replace("2024-03-02", "2020-03-02")], HEADER, ["column date", "time.start"]),
    ("date after the time axis", [ROW.replace("2024-03-02", "2030-03-02")], HEADER, ["column date", "time.end"]),
    ("US dates without date_format", [ROW.replace("2024-03-02", "3/16/2024")], HEADER,
     ["column date", "date_format = '%m/%d/%Y'"]),
    ("x nan", [ROW.replace("500300", "nan")], HEADER, ["line 2, column x", "finite"]),
    ("x inf", [ROW.replace("500300", "inf")], HEADER, ["column x", "finite"]),
    ("x text", [ROW.replace("500300", "east")], HEADER, ["column x", "'east'"]),
    ("y empty", [ROW.replace("4700600", "")], HEADER, ["line 2, column coordinates"]),
    ("lon out of range", ["A1,2024-03-02,dispenser-147,2,200,42.4,40,0.1,0.03"], HEADER.replace("x,y", "lon,lat"),
     ["column lon", "less than or equal to 180"]),
    ("lat out of range", ["A1,2024-03-02,dispenser-147,2,21,95,40,0.1,0.03"], HEADER.replace("x,y", "lon,lat"),
     ["column lat", "less than or equal to 90"]),
    ("longitude alias out of range", ["A1,2024-03-02,dispenser-147,2,200,42.4,40,0.1,0.03"],
     HEADER.replace("x,y", "longitude,latitude"), ["column lon"]),
    ("azimuth inf", [ROW.replace(",40,", ",inf,")], HEADER, ["column azimuth_deg", "finite"]),
    ("misspelt azimuth", [ROW], HEADER.replace("azimuth_deg", "azimuth"), ["'azimuth'", "did you mean 'azimuth_deg'"]),
    ("scenario name dud_rate", [ROW], HEADER.replace("dud_mean", "dud_rate"), ["'dud_rate'", "did you mean 'dud_mean'"]),
    ("misspelt carriers", [ROW], HEADER.replace("carriers", "carriers_n"), ["'carriers_n'", "did you mean 'carriers'"]),
    ("required columns missing", ["A1,500300,4700600"], "id,x,y", ["lack 3 required columns", "'date', 'profile', 'carriers'"]),
    ("no coordinate columns", ["A1,2024-03-02,dispenser-147,2"], "id,date,profile,carriers", ["no coordinate columns"]),
    ("two columns for lon", ["A1,2024-03-02,dispenser-147,2,21,21,42"], "id,date,profile,carriers,lon,long,lat",
     ["both give column 'lon'"]),
    ("no rows", [], HEADER, ["has no rows"]),
    ("degrees under a projected CRS", ["A1,2024-03-02,dispenser-147,2,21.0,42.4,40,0.1,0.03"], HEADER,
     ["strike_records.crs", "does not fit the coordinates", "EPSG:4326"]),
    ("coordinates of another zone", ["A1,2024-03-02,dispenser-147,2,5e7,4700600,40,0.1,0.03"], HEADER,
     ["strike_records.crs", "does not fit"]),
]


@pytest.mark.parametrize("suffix", [".csv", ".csv.gz"])
@pytest.mark.parametrize(("case", "rows", "header", "fragments"), RECORD_ROWS, ids=[c[0] for c in RECORD_ROWS])
def test_bad_strike_records(remnant, tmp_path, runs, suffix, case, rows, header, fragments):
    if rows is None:  # a record reusing an inline strike's id
        path = records_scenario(tmp_path, [ROW], header, "strikes" + suffix)
        first = TINY_TOML.index("[[strikes]]")
        path.write_text(path.read_text() + "\n" + TINY_TOML[first:TINY_TOML.index("[[strikes]]", first + 1)])
    else:
        path = records_scenario(tmp_path, rows, header, "strikes" + suffix)
    assert_one_line(remnant("run", path, "--out", runs / "out"), BAD_INPUT, ["strikes" + suffix, *fragments], runs)


def test_every_problem_of_a_file_is_told_at_once(remnant, tmp_path, runs):
    bad = [ROW.replace("A1", f"B{i}").replace(",2,", ",-1,", 1) for i in range(30)]
    path = records_scenario(tmp_path, [ROW.replace("2024-03-02", "2024-02-30"), *bad], HEADER)
    code, _, stderr = remnant("run", path, "--out", runs / "out")
    lines = stderr.strip().splitlines()
    assert code == BAD_INPUT and "Traceback" not in stderr
    assert "line 2, column date" in lines[0] and "30 more problems below" in lines[0]
    assert len(lines) == 21 and "line 3, column carriers" in lines[1] and lines[-1].strip() == "and 11 more problems"
    assert list(runs.iterdir()) == []


FILES = {
    "truncated gzip": ("strikes.csv.gz", lambda body: gzip.compress(body)[:-30]),
    "garbage gzip": ("strikes.csv.gz", lambda body: b"\x1f\x8b not really gzip"),
    "not gzip at all": ("strikes.csv.gz", lambda body: body),
    "empty file": ("strikes.csv", lambda body: b""),
    "not UTF-8": ("strikes.csv", lambda body: body.replace(b"A1", b"\xff\xfe")),
    "unbalanced quotes": ("strikes.csv", lambda body: body + b'"A2,2024-03-02\n'),
    "garbage vector file": ("strikes.gpkg", lambda body: b"SQLite format 3\x00 but not really"),
}


@pytest.mark.parametrize("case", list(FILES))
def test_unreadable_strike_record_files(remnant, tmp_path, runs, case):
    name, make = FILES[case]
    path = records_scenario(tmp_path, ROWS, HEADER, name if name != "strikes.gpkg" else "strikes.csv")
    body = "\n".join([HEADER, *ROWS]).encode() + b"\n"
    if name == "strikes.gpkg":
        path.write_text(path.read_text().replace('path = "strikes.csv"', 'path = "strikes.gpkg"'))
    (tmp_path / name).write_bytes(make(body))
    assert_one_line(remnant("run", path, "--out", runs / "out"), BAD_INPUT, [name, "strike_records.path"], runs)


@pytest.mark.parametrize("kind", ["missing", "folder", "named pipe"])
def test_strike_records_that_are_not_files(remnant, tmp_path, runs, kind):
    path = records_scenario(tmp_path)
    (tmp_path / "strikes.csv").unlink()
    if kind == "folder":
        (tmp_path / "strikes.csv").mkdir()
    elif kind == "named pipe":
        os.mkfifo(tmp_path / "strikes.csv")
    assert_one_line(remnant("run", path, "--out", runs / "out"), BAD_INPUT, ["strike_records.path"], runs)


RECORD_SETTINGS = [
    ('crs = "EPSG:999999"', ["strike_records.crs", "EPSG:999999", "not a CRS"]),
    ('crs = "not a crs"', ["strike_records.crs", "not a CRS"]),
    ('crs = "EPSG:4326"', ["strike_records.crs", "does not fit the coordinates"]),
    ('date_format = "%d/%m"', ["strike_records.date_format", "no year"]),
    ('date_format = "%d/%m/%Y"', ["line 2, column date", "write dates as %d/%m/%Y"]),
    ('dates = "iso"', ["strike_records.dates", "unknown key"]),
]


@pytest.mark.parametrize(("setting", "fragments"), RECORD_SETTINGS, ids=[s for s, _ in RECORD_SETTINGS])
def test_bad_strike_record_settings(remnant, tmp_path, runs, setting, fragments):
    path = records_scenario(tmp_path, [ROWS[0]], extra=setting)
    assert_one_line(remnant("run", path, "--out", runs / "out"), BAD_INPUT, fragments, runs)


# --- 3. counts and sizes bounded before work ------------------------------------------------------------

CLEARANCE = 'clearance={start=2024-02-01, teams={bac=2.0}}'
OVERRIDES = [
    ("carriers 2**31", ["strikes[0].carriers=2147483648"], ["strikes[0].carriers", "less than or equal to 2147483647"]),
    ("carriers int64 max", ["strikes[0].carriers=9223372036854775807"], ["strikes[0].carriers"]),
    ("carriers beyond int64", ["strikes[0].carriers=99999999999999999999"], ["strikes[0].carriers"]),
    ("extent of 1e300 m", ["study_area.extent_m=[0, 0, 1e300, 1e300]"], ["study_area.cell_size_m", "at most 2,147,483,647"]),
    ("extent of 1e308 m", ["study_area.extent_m=[-1e308, -1e308, 1e308, 1e308]"], ["study_area.cell_size_m"]),
    ("cell of 1e-300 m", ["study_area.cell_size_m=1e-300"], ["study_area.cell_size_m", "cells of at least"]),
    ("cell of 5e-324 m", ["study_area.cell_size_m=5e-324"], ["study_area.cell_size_m"]),
    ("cell of 1e300 m", ["study_area.cell_size_m=1e300"], ["study_area.cell_size_m", "less than or equal to"]),
    ("realizations 1e8", ["simulation.realizations=100000000"], ["simulation.realizations"]),
    ("step of 1e6 months", ["time.step_months=1000000"], ["time.step_months"]),
    ("end in year 9999", ["time.end=9999-01-01"], ["time.end"]),
    ("work unit of 1e300 m", [CLEARANCE, "clearance.work_unit_m=1e300"], ["clearance.work_unit_m", "at most"]),
    ("work unit of 0 m", [CLEARANCE, "clearance.work_unit_m=0"], ["clearance.work_unit_m"]),
    ("deadline after the time axis", [CLEARANCE, "clearance.deadline=2026-01-01"],
     ["clearance.deadline", "after the time axis ends"]),
    ("batch size 0", ["simulation.batch_size=0"], ["simulation.batch_size"]),
    ("seed negative", ["simulation.seed=-1"], ["simulation.seed"]),
    ("azimuth inf", ["strikes[0].azimuth_deg=inf"], ["strikes[0].azimuth_deg"]),
]


@pytest.mark.parametrize(("case", "overrides", "fragments"), OVERRIDES, ids=[c[0] for c in OVERRIDES])
def test_counts_and_sizes_are_bounded(remnant, tiny, runs, case, overrides, fragments):
    args = [item for override in overrides for item in ("--set", override)]
    assert_one_line(remnant("run", tiny, "--out", runs / "out", *args), BAD_INPUT, fragments, runs)


def test_carriers_times_payload_that_wraps_int64_is_refused(remnant, tmp_path, runs):
    profile = """
[[profiles]]
id = "huge"
name = "a payload that wraps int64"
family = "rocket"
example = "none"
submunitions_per_carrier = 4611686018427387904
pattern = { kind = "uniform-ellipse", length_m = 100.0, width_m = 100.0 }
delivery_error = { range_sd_m = 10.0, deflection_sd_m = 10.0 }
dud_rate = { mean = 0.1 }
sources = {}
"""
    text = TINY_TOML.replace('profile = "rocket-220mm-30"', 'profile = "huge"') + profile
    path = write_tiny(tmp_path, text)
    assert_one_line(remnant("run", path, "--out", runs / "out"), BAD_INPUT, ["submunitions", "2,147,483,647"], runs)


@pytest.mark.parametrize(("values", "fragments"), [("1e30,2", ["carriers"]), ("2:1e30:3", ["carriers"])])
def test_sweep_values_that_overflow(remnant, tiny, runs, values, fragments):
    assert_one_line(remnant("sweep", tiny, "--param", "strikes[0].carriers", "--values", values, "--out",
                            runs / "out", "--realizations", "2"), BAD_INPUT, fragments, runs)


def test_sensitivity_ranges_that_overflow(remnant, tiny, runs, tmp_path):
    ranges = tmp_path / "ranges.toml"
    ranges.write_text('"strikes[0].carriers" = [1, 1e30]\n')
    assert_one_line(remnant("sensitivity", tiny, "--ranges", ranges, "--samples", "4", "--out", runs / "out",
                            "--realizations", "2"), BAD_INPUT, ["carriers"], runs)


@pytest.mark.parametrize("kind", ["named pipe", "character device"])
def test_land_use_that_is_not_a_file(remnant, tiny, runs, kind):
    layer = tiny.parent / "land_use.geojson"
    layer.unlink()
    if kind == "named pipe":
        os.mkfifo(layer)
    else:
        tiny.write_text(tiny.read_text().replace('path = "land_use.geojson"', 'path = "/dev/zero"'))
    assert_one_line(remnant("run", tiny, "--out", runs / "out"), BAD_INPUT,
                    ["land_use.path", "not a regular file or a folder"], runs)


# --- 4 and 5. meaning checks and CRSs ---------------------------------------------------------------

MEANING = [
    ("aim point in degrees", ["strikes[0].aim_point={x=21.0, y=42.4}"], ["strikes[0].aim_point", "looks like degrees",
                                                                         "lon = 21"]),
    ("extent far from the land use", ["study_area.extent_m=[0, 0, 1000, 1000]"],
     ["study_area.extent_m", "no land-use polygon covers any cell"]),
    ("extent in another hemisphere", ["study_area.extent_m=[500000, 5700000, 501000, 5701000]"],
     ["study_area.extent_m", "no land-use polygon"]),
    ("every strike far away", ["strikes[0].aim_point={x=700000.0, y=4700000.0}",
                               "strikes[1].aim_point={x=700000.0, y=4700000.0}",
                               "strikes[2].aim_point={x=700000.0, y=4700000.0}"],
     ["strikes", "every strike aims more than 20 km outside the study area"]),
    ("raw value in two classes", ['land_use.classes.forest.values=["forest", "farmland"]'],
     ["land_use.classes.forest.values", "'farmland'", "also a value of class 'farmland'"]),
    ("raw value in two classes by key", ['land_use.classes.residential.values=["wood"]'],
     ["land_use.classes", "'wood'", "also a value of class"]),
    ("Web Mercator study area", ['study_area.crs="EPSG:3857"'], ["study_area.crs", "EPSG:3857", "stretches distances",
                                                                   "EPSG:32634"]),
    ("a national grid far from its area", ['study_area.crs="EPSG:3067"'], ["study_area.crs", "is meant for Finland",
                                                                          "EPSG:32634"]),
    ("geographic study area", ['study_area.crs="EPSG:4326"'], ["study_area.crs", "not a projected CRS in metres"]),
    ("study area in feet", ['study_area.crs="EPSG:2272"'], ["study_area.crs"]),
    ("wrong source CRS", ['land_use.source_crs="EPSG:4326"'], ["land_use.source_crs", "is probably wrong", "EPSG:3857"]),
    ("source CRS of another country", ['land_use.source_crs="EPSG:27700"'], ["land_use.source_crs", "is probably wrong",
                                                                             "EPSG:3857 (around"]),
    ("single class and class field", ['land_use.single_class="forest"'],
     ["land_use.class_field", "exactly one of class_field and single_class"]),
    ("single class unknown", ['land_use.single_class="lake"'], ["land_use"]),
    ("default class unknown", ['land_use.default_class="lake"'], ["land_use.default_class", "'lake'"]),
]


@pytest.mark.parametrize(("case", "overrides", "fragments"), MEANING, ids=[c[0] for c in MEANING])
def test_inputs_that_make_no_sense_together(remnant, tiny, runs, case, overrides, fragments):
    args = [item for override in overrides for item in ("--set", override)]
    assert_one_line(remnant("run", tiny, "--out", runs / "out", *args), BAD_INPUT, fragments, runs)


@pytest.mark.parametrize(("case", "overrides", "fragments"), MEANING[:6], ids=[c[0] for c in MEANING[:6]])
def test_validate_refuses_what_run_refuses(remnant, tiny, case, overrides, fragments):
    args = [item for override in overrides for item in ("--set", override)]
    assert_one_line(remnant("validate", tiny, *args), BAD_INPUT, fragments)


def test_the_corpus_is_large_enough():
    cases = (len(USAGE) + 7 + len(OS_ERRORS) + 3 + len(RUN_RECORDS) + 3 + 3 + 5 + 2 * len(RECORD_ROWS) + 1 + len(FILES)
             + 3 + len(RECORD_SETTINGS) + len(OVERRIDES) + 1 + 2 + 1 + 2 + len(MEANING) + 6 + 5)
    assert cases >= 150, cases


# --- a handful through real processes ---------------------------------------------------------------


def _subprocess_cases(tmp_path: Path) -> dict:
    tiny = write_tiny(tmp_path)
    (tmp_path / "gz").mkdir()
    gz = records_scenario(tmp_path / "gz", ROWS, HEADER, "strikes.csv.gz")
    (tmp_path / "gz" / "strikes.csv.gz").write_bytes((tmp_path / "gz" / "strikes.csv.gz").read_bytes()[:-30])
    pipe = tmp_path / "pipe"
    pipe.mkdir()
    piped = write_tiny(pipe)
    (pipe / "land_use.geojson").unlink()
    os.mkfifo(pipe / "land_use.geojson")
    record = tmp_path / "old-run"
    record.mkdir()
    (record / "run.json").write_text("{")
    return {
        "threads 0": (["run", str(tiny), "--threads", "0"], ["--threads"]),
        "unknown command": (["frobnicate"], ["No such command"]),
        "truncated csv.gz": (["run", str(gz)], ["strikes.csv.gz", "truncated"]),
        "land use a named pipe": (["run", str(piped)], ["land_use.path", "not a regular file"]),
        "run.json is {": (["run", "--check", str(record)], ["run.json", "is not a run record"]),
    }


@pytest.mark.slow
@pytest.mark.parametrize("case", ["threads 0", "unknown command", "truncated csv.gz", "land use a named pipe",
                                  "run.json is {"])
def test_bad_inputs_in_a_real_process(tmp_path, case):
    args, fragments = _subprocess_cases(tmp_path)[case]
    runs = tmp_path / "runs"
    runs.mkdir()
    extra = ["--out", str(runs / "out")] if args[0] == "run" and "--check" not in args else []
    proc = subprocess.run([sys.executable, "-m", "simulator", *args, *extra], capture_output=True, text=True,
                          timeout=TIME_LIMIT_S, cwd=tmp_path)
    assert_one_line((proc.returncode, proc.stdout, proc.stderr), BAD_INPUT, fragments, runs)
