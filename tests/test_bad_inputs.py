"""A corpus of bad scenarios: each fails with exit code 2, one clear line, no traceback, nothing written.

Each ``tests/data/bad/*.toml`` starts with ``# expect: fragment | fragment ...``; every fragment must
appear in the one error line. The land-use files they read are in ``tests/data/bad/data``
(written by ``tests/data/bad/make_data.py``).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BAD = Path(__file__).resolve().parent / "data" / "bad"
CASES = sorted(BAD.glob("*.toml"))


def expected_fragments(path: Path) -> list[str]:
    first = path.read_bytes().split(b"\n", 1)[0].decode("utf-8", errors="replace")
    assert first.startswith("# expect: "), f"{path.name} must start with '# expect: fragment | fragment'"
    return [fragment.strip() for fragment in first.removeprefix("# expect: ").split(" | ")]


def assert_clean_failure(code: int, stdout: str, stderr: str, path: Path, out: Path) -> str:
    assert code == 2, f"exit code {code}; stderr: {stderr}"
    assert "Traceback" not in stderr and "Traceback" not in stdout
    lines = stderr.strip("\n").splitlines()
    assert len(lines) == 1, f"expected one line, got:\n{stderr}"
    line = lines[0]
    assert line.startswith("remnant: error: "), line
    for fragment in expected_fragments(path):
        assert fragment in line, f"{fragment!r} not in: {line}"
    # the line starts with the file to fix: the scenario, unless the case expects another (its land-use layer)
    named = Path(line.removeprefix("remnant: error: ").split(": ", 1)[0]).name
    fragments = expected_fragments(path)
    assert named == path.name or any(fragment.startswith(f"{named}: ") for fragment in fragments), line
    assert not out.exists()
    assert list(out.parent.iterdir()) == [], "stray files or staging folders beside --out"
    return line


def test_the_corpus_is_large_enough():
    assert len(CASES) >= 30
    for path in CASES:
        assert expected_fragments(path)


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_bad_scenario_fails_cleanly(remnant, path, tmp_path):
    out = tmp_path / "runs" / "out"
    out.parent.mkdir()
    code, stdout, stderr = remnant("run", path, "--out", out)
    assert_clean_failure(code, stdout, stderr, path, out)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["unknown_key_strike", "land_use_corrupt", "toml_syntax"])
def test_bad_scenario_fails_cleanly_in_a_subprocess(name, tmp_path):
    path = BAD / f"{name}.toml"
    out = tmp_path / "runs" / "out"
    out.parent.mkdir()
    proc = subprocess.run([sys.executable, "-m", "simulator", "run", str(path), "--out", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert_clean_failure(proc.returncode, proc.stdout, proc.stderr, path, out)


@pytest.mark.parametrize("name", ["unknown_key_dud_rate", "land_use_no_crs", "default_class_unknown"])
def test_validate_fails_the_same_way(remnant, name, tmp_path):
    path = BAD / f"{name}.toml"
    code, stdout, stderr = remnant("validate", path)
    assert code == 2 and len(stderr.strip().splitlines()) == 1
    assert all(fragment in stderr for fragment in expected_fragments(path))


@pytest.mark.parametrize(
    ("override", "fragments"),
    [
        ("simulation.realizations", ["--set", "key.path=value"]),
        ("strikes[9].carriers=3", ["strikes[9].carriers", "out of range"]),
        ("strikes.carriers=3", ["strikes.carriers", "is a list"]),
        ("name.first=3", ["name.first", "is a value, not a table"]),
        ("strikes[x].carriers=3", ["strikes[x].carriers", "not a valid key path"]),
        (".=3", ["--set", "not a valid key path"]),
        ("hazard.threshold=2", ["hazard.threshold", "less than or equal to 1"]),
        ("simulation.realizations=-1", ["simulation.realizations", "greater than 0"]),
        ("strikes[0].dud_rate.mean=nan", ["strikes[0].dud_rate.mean", "nan"]),
        ("study_area.cel_size_m=5", ["study_area.cel_size_m", "did you mean 'cell_size_m'"]),
        ('name="[/]"', ["name: '[/]' is not allowed here"]),
        ("strikes[0].date=2031-01-01", ["strikes[0].date: 2031-01-01 is outside the time axis"]),
    ],
)
def test_bad_overrides_fail_cleanly(remnant, tiny, tmp_path, override, fragments):
    out = tmp_path / "runs" / "out"
    out.parent.mkdir()
    code, stdout, stderr = remnant("run", tiny, "--set", override, "--out", out)
    assert code == 2, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("remnant: error: ") and "Traceback" not in stderr, stderr
    assert all(fragment in lines[0] for fragment in fragments), lines[0]
    assert not out.exists() and list(out.parent.iterdir()) == []


@pytest.mark.parametrize(("name", "fragments"), [("missing.toml", ["file not found"]), (".", ["is a folder"])])
def test_missing_scenario_file_or_a_folder(remnant, tmp_path, name, fragments):
    out = tmp_path / "runs" / "out"
    out.parent.mkdir()
    code, _, stderr = remnant("run", tmp_path / name, "--out", out)
    assert code == 2 and len(stderr.strip().splitlines()) == 1 and "Traceback" not in stderr
    assert all(fragment in stderr for fragment in fragments) and not out.exists()


def test_a_scenario_saved_with_a_byte_order_mark_loads(remnant, tiny):
    tiny.write_bytes(b"\xef\xbb\xbf" + tiny.read_bytes())  # as Windows Notepad saves UTF-8
    code, stdout, stderr = remnant("validate", tiny)
    assert code == 0 and "valid" in stdout, stderr


def test_strikes_outside_the_study_area_warn_and_run(remnant, tiny, tmp_path):
    text = tiny.read_text().replace("aim_point = { x = 500700.0, y = 4700400.0 }",
                                    "aim_point = { x = 530700.0, y = 4700400.0 }", 1)
    tiny.write_text(text)
    out = tmp_path / "out"
    code, stdout, stderr = remnant("run", tiny, "--out", out, "--json", "--realizations", "4")
    assert code == 0, stderr
    assert "warning:" in stderr and "1 strike aim points lie outside the study area" in stderr
    summary = json.loads(stdout)
    assert summary["strikes_off_grid"] == 1
    assert out.is_dir()
