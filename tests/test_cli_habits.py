"""The command line's habits: usage errors in one line with exit 2, --version, completion, help, progress."""

from __future__ import annotations

import json
import re

import pytest

from simulator import __version__
from simulator.cli.app import COMMANDS
from simulator.cli.run import ConsoleReporter
from simulator.cli.summary import print_summary
from simulator.config.variants import load_scenario
from simulator.engine.prepare import prepare
from simulator.pipeline import Reporter, execute
from simulator.pipeline.runner import progress_total
from tests.conftest import TINY_TOML, write_tiny

CLEARANCE = """
[clearance]
start = 2024-07-01
teams = { nts = 1, ts = 1, bac = 1 }
"""

USAGE_ERRORS = {
    "unknown option": (["--bogus"], "No such option: --bogus"),
    "unknown option of a command": (["run", "--bogus"], "No such option: --bogus"),
    "bad value": (["run", "--realizations", "abc"], "Invalid value for '--realizations'"),
    "value out of range": (["run", "--realizations", "0"], "Invalid value for '--realizations'"),
    "option without its value": (["run", "--out"], "'--out' requires an argument"),
    "missing option": (["sweep"], "Missing option '--param'"),
    "missing argument": (["compare"], "Missing argument"),
    "unknown command": (["nosuch"], "No such command 'nosuch'"),
    "two scenario arguments": (["run", "a.toml", "b.toml"], "unexpected extra argument"),
    "flag given a value": (["run", "--overwrite=yes"], "does not take a value"),
}
"""One of each kind of usage error, and what its line says."""


@pytest.mark.parametrize("args, expected", USAGE_ERRORS.values(), ids=USAGE_ERRORS.keys())
def test_every_usage_error_is_one_line_with_exit_code_2(remnant, args, expected):
    code, stdout, stderr = remnant(*args)
    assert code == 2
    assert stdout == ""
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("remnant: error: ") and expected in lines[0] and "--help" in lines[0]
    assert "Traceback" not in stderr


def test_debug_adds_the_traceback_to_a_usage_error(remnant):
    code, _, stderr = remnant("--debug", "run", "--bogus")
    assert code == 2 and "Traceback" in stderr and stderr.strip().endswith("(see `remnant run --help`)")


def test_version(remnant):
    code, stdout, stderr = remnant("--version")
    assert (code, stdout, stderr) == (0, f"remnant {__version__}\n", "")


@pytest.mark.parametrize("command", [[]] + [[name] for name in COMMANDS])
def test_help_shows_flags_without_a_type_and_without_negations(remnant, monkeypatch, command):
    monkeypatch.setenv("COLUMNS", "200")
    code, stdout, _ = remnant(*command, "--help")
    assert code == 0 and "Usage: remnant" in stdout
    assert "<bool>" not in stdout and "--no-" not in stdout
    assert "--help" in stdout


def test_shell_completion_script_and_completions(remnant, monkeypatch):
    code, stdout, _ = remnant("--show-completion", "bash")
    assert code == 0 and "_REMNANT_COMPLETE=complete_bash" in stdout and "complete -o default" in stdout
    monkeypatch.setenv("_REMNANT_COMPLETE", "complete_bash")
    for words, cword, expected in (("remnant ru", "1", "run"), ("remnant run --overw", "2", "--overwrite"),
                                   ("remnant comp", "1", "compare")):
        monkeypatch.setenv("COMP_WORDS", words)
        monkeypatch.setenv("COMP_CWORD", cword)
        code, stdout, _ = remnant()
        assert code == 0 and stdout.split() == [expected]


class Recorder(Reporter):
    """Every hook's call, in order."""

    def __init__(self):
        self.calls = []

    def prepared(self, setup, total):
        self.calls.append(("prepared", total))

    def advance(self, n):
        self.calls.append(("advance", n))

    def grow(self, n):
        self.calls.append(("grow", n))

    def writing(self):
        self.calls.append(("writing", None))

    def finished(self):
        self.calls.append(("finished", None))


@pytest.mark.parametrize("clearance", [False, True])
def test_progress_counts_every_pass_and_ends_with_writing(tmp_path, clearance):
    """Without land release one unit per realization; with it two (the map, then the scored pass);
    the hooks end with the outputs being written."""
    text = TINY_TOML.replace("realizations = 40", "realizations = 12")
    loaded = load_scenario(write_tiny(tmp_path, text + (CLEARANCE if clearance else "")))
    recorder = Recorder()
    execute(loaded, tmp_path / "out", threads=1, reporter=recorder)
    names = [name for name, _ in recorder.calls]
    assert names[0] == "prepared" and names[-2:] == ["writing", "finished"]
    total = recorder.calls[0][1] + sum(n for name, n in recorder.calls if name == "grow")
    assert sum(n for name, n in recorder.calls if name == "advance") == total == (24 if clearance else 12)
    assert (tmp_path / "out" / "run.json").exists()


def test_the_bar_labels_its_units(tmp_path):
    loaded = load_scenario(write_tiny(tmp_path, TINY_TOML.replace("realizations = 40", "realizations = 6") + CLEARANCE))
    reporter = ConsoleReporter(show=False, warn=False)
    execute(loaded, tmp_path / "out", threads=1, reporter=reporter)
    bar, writing = reporter.bar.tasks
    assert bar.description == "realizations" and "map + release passes" in bar.fields["unit"]
    assert bar.completed == bar.total == progress_total(prepare(loaded, threads=1)) == 12
    assert writing.description == "writing outputs" and writing.finished


def _scaled(value, factor: float):
    """Every count and area in a summary record times ``factor`` (shares, years and ids left alone)."""
    if isinstance(value, dict):
        return {k: v if k.startswith(("p_", "share_")) or "years" in k or k == "id" else _scaled(v, factor)
                for k, v in value.items()}
    if isinstance(value, list):
        return [_scaled(v, factor) for v in value]
    return value * factor if isinstance(value, (int, float)) and not isinstance(value, bool) else value


def test_summary_numbers_carry_thousands_separators(remnant, capsys, tmp_path, monkeypatch):
    """Scaled up ten-thousandfold, every number the summary prints has its thousands separated."""
    scenario = write_tiny(tmp_path, TINY_TOML.replace("realizations = 40", "realizations = 6") + CLEARANCE)
    assert remnant("run", scenario, "--out", tmp_path / "o", "--quiet")[0] == 0
    summary = json.loads((tmp_path / "o" / "run.json").read_text())["summary"]
    monkeypatch.setenv("COLUMNS", "400")
    capsys.readouterr()
    print_summary(_scaled(summary, 10_000), tmp_path / "o")
    text = capsys.readouterr().out
    assert "outputs:" in text
    body = re.sub(r"\d{4}-\d{2}-\d{2}", "DATE", text.split("outputs:")[0])
    assert re.findall(r"\d{4,}", body) == []
    assert re.search(r"\d{1,3}(,\d{3})+", body)
