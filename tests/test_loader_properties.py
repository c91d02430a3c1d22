"""Property tests of the scenario loader: any input gives a valid Scenario or one clean InputError.

Never another exception, never a multi-line message: (a) random TOML-like documents straight into
``validate``, (b) mutations of the tiny scenario written to a file and loaded (and prepared, when the
grid stays small), (c) random ``--set`` overrides. Bounded to run in well under 30 s.
"""

from __future__ import annotations

import copy
import json
import math
import os
import tomllib
from datetime import date, datetime, time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from simulator.config.keypath import parse_override
from simulator.config.loading import validate
from simulator.config.scenario import Scenario
from simulator.config.variants import Variants, load_scenario
from simulator.engine.prepare import prepare
from simulator.errors import InputError, one_line
from tests.conftest import TINY_TOML, write_tiny

PATH = Path("scenario.toml")
TINY = tomllib.loads(TINY_TOML)
EXAMPLES = int(os.environ.get("REMNANT_PROPERTY_EXAMPLES", "250"))
"""Examples per test; raise it (e.g. REMNANT_PROPERTY_EXAMPLES=5000) for a deeper search."""
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# -- strategies ---------------------------------------------------------------------------------

def _field_names() -> list[str]:
    schema = Scenario.model_json_schema()
    tables = [schema, *schema.get("$defs", {}).values()]
    return sorted({name for table in tables for name in table.get("properties", {})})


FIELD_NAMES = _field_names()
"""Real field names, so random documents reach the deeper models and validators."""

odd_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12) | st.sampled_from(
    ["", " ", "\n", "line\nbreak", "[/]", "[red]x", "\x00", "\u2028", "é", "EPSG:4326", "nan", "2024-01-01", "a" * 300]
)
keys = st.sampled_from(FIELD_NAMES) | odd_text
numbers = (
    st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.sampled_from([0, 1, -1, 2**64])
    | st.integers(min_value=4300, max_value=5000).map(lambda digits: -(10**digits))  # too long for str()
    | st.floats(allow_nan=True, allow_infinity=True)
)
dates = st.dates(min_value=date(1, 1, 1)) | st.datetimes() | st.times()
scalars = numbers | odd_text | st.booleans() | dates | st.sampled_from(["artillery-155mm-88", "land-use-priority"])
documents = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=5),
    max_leaves=25,
)


def assert_clean(error: InputError, path: Path | str, *others: Path | str) -> None:
    """One line, naming the file (``path`` or one of ``others``), and the field if there is one."""
    text, line = str(error), error.line()
    assert "\n" not in line and "\r" not in line and len(line.splitlines()) == 1, line
    assert line.isprintable(), line
    assert error.file in {str(p) for p in (path, *others)} and text.startswith(one_line(error.file)), text
    if error.field:
        assert one_line(error.field) in text, text


def check(what: str, call, path, *others):
    """``call()`` returns, or raises one InputError (anything else propagates and fails the test)."""
    try:
        result = call()
    except InputError as error:
        assert_clean(error, path, *others)
        event(f"{what}: InputError")
        return None
    event(f"{what}: valid")
    return result


# -- (a) random documents into validate ---------------------------------------------------------


@pytest.mark.slow
@SETTINGS
@given(raw=st.dictionaries(keys, documents, max_size=8))
def test_random_documents_validate_or_fail_cleanly(raw):
    result = check("validate", lambda: validate(Scenario, raw, PATH, context={"base_dir": Path("/tmp")}), PATH)
    assert result is None or isinstance(result, Scenario)


@SETTINGS
@given(section=st.sampled_from(sorted(TINY)), value=documents)
def test_random_sections_in_the_tiny_scenario(section, value):
    raw = copy.deepcopy(TINY)
    raw[section] = value
    result = check("validate", lambda: validate(Scenario, raw, PATH), PATH)
    assert result is None or isinstance(result, Scenario)


# -- (b) mutations of the tiny scenario, written and loaded --------------------------------------


def key_paths(node, here=()):
    """Every path to a value in ``node`` (dict keys and list indexes)."""
    yield here
    children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, child in children:
        yield from key_paths(child, (*here, key))


TINY_PATHS = [p for p in key_paths(TINY) if p]


def toml_value(value) -> str:
    """``value`` as an inline TOML value (enough for tests: no tables of arrays of tables)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return ("-" if value < 0 else "") + "inf" if math.isinf(value) else "nan" if math.isnan(value) else repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(value, (date, datetime, time)):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{toml_value(str(k))} = {toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(type(value))


def to_toml(doc: dict) -> str:
    return "".join(f"{toml_value(str(key))} = {toml_value(value)}\n" for key, value in doc.items())


def test_the_test_writer_round_trips():
    assert tomllib.loads(to_toml(TINY)) == TINY


toml_scalars = (
    st.integers(min_value=-(2**63), max_value=2**63 - 1) | st.floats() | odd_text.filter(lambda t: "\x00" not in t)
    | st.booleans() | st.dates() | st.sampled_from([0, -1, 0.0, 1e-9, 1e308, "", "EPSG:4326", "farmland"])
)
toml_values = st.recursive(toml_scalars, lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(keys.filter(lambda k: "\x00" not in k), inner, max_size=3), max_leaves=8)


def same_type(value) -> st.SearchStrategy:
    if isinstance(value, bool):
        return st.booleans()
    if isinstance(value, int):
        return st.integers(-3, 3) | st.integers(0, 10**7) | st.just(value * 10)
    if isinstance(value, float):
        return (st.floats(-1.0, 2.0) | st.floats(-1e7, 1e7) | st.floats(allow_nan=False, allow_infinity=False)
                | st.just(value * 1000.0) | st.just(value + 1e5))
    if isinstance(value, date):
        return st.dates(date(2020, 1, 1), date(2027, 1, 1))
    if isinstance(value, str):
        return st.sampled_from(["", "EPSG:4326", "EPSG:32635", "EPSG:3857", "farmland", "forest", "class",
                                "dispenser-202", "rocket-227mm-644", "nowhere.gpkg", "tiny.toml", value + "x"])
    return st.just(value)


@st.composite
def mutated_tiny(draw):
    doc = copy.deepcopy(TINY)
    for _ in range(draw(st.integers(1, 3))):
        paths = [p for p in key_paths(doc) if p]
        path = draw(st.sampled_from(paths))
        *parents, last = path
        node = doc
        for part in parents:
            node = node[part]
        op = draw(st.sampled_from(["drop", "retype", "set", "unknown", "tweak", "tweak"]))
        if op == "drop" and isinstance(node, dict):
            del node[last]
        elif op == "drop":
            node.pop(last)
        elif op == "retype":
            old = node[last]
            node[last] = draw(toml_values.filter(lambda v, old=old: type(v) is not type(old)))
        elif op == "set":
            node[last] = draw(toml_scalars)
        elif op == "tweak":  # a value of the same type: often valid, so prepare runs too
            node[last] = draw(same_type(node[last]))
        else:
            target = node[last] if isinstance(node[last], dict) else node
            if isinstance(target, dict):
                target[draw(keys.filter(lambda k: "\x00" not in k))] = draw(toml_scalars)
    return doc


def small_grid(loaded) -> bool:
    area = loaded.scenario.study_area
    if area.extent_m is None:
        return area.cell_size_m >= 5
    xmin, ymin, xmax, ymax = area.extent_m
    return (xmax - xmin) * (ymax - ymin) / area.cell_size_m**2 < 1e6


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("mutations")
    write_tiny(folder)
    return folder


@SETTINGS
@given(doc=mutated_tiny())
def test_mutated_tiny_scenarios_load_or_fail_cleanly(folder, doc):
    path = folder / "tiny.toml"
    path.write_text(to_toml(doc), encoding="utf-8")
    catalog = doc.get("catalog")
    others = [folder / catalog] if isinstance(catalog, str) and "\x00" not in catalog else []
    loaded = check("load_scenario", lambda: load_scenario(path), path, *others)
    if loaded is not None and small_grid(loaded):  # land-use problems name the layer's file
        check("prepare", lambda: prepare(loaded, threads=1), path, loaded.scenario.land_use.path)


# -- (c) --set overrides -------------------------------------------------------------------------


def loc_text(path) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else (f".{p}" if i else str(p)) for i, p in enumerate(path))


override_keys = st.sampled_from([loc_text(p) for p in TINY_PATHS]) | st.builds(
    lambda parts: ".".join(parts), st.lists(keys, min_size=1, max_size=3)
) | st.sampled_from(["strikes[9].carriers", "strikes.carriers", "name.x", "[0]", "a[", "a]b", "strikes[-1].id", "."])
override_values = st.builds(toml_value, toml_scalars) | odd_text | st.sampled_from(["[1, 2", "{ x = 1 }", "nan", "inf"])


@SETTINGS
@given(overrides=st.lists(st.tuples(override_keys, st.sampled_from(["=", "", " = "]), override_values),
                          min_size=1, max_size=3))
def test_random_overrides_apply_or_fail_cleanly(overrides):
    raw = copy.deepcopy(TINY)

    def apply_all():
        settings = [parse_override(f"{key}{sep}{value}") for key, sep, value in overrides]
        changed, _ = Variants(PATH, raw, adjust=False).raw_with(settings, where="--set")
        return validate(Scenario, changed, PATH)

    try:
        result = apply_all()
    except InputError as error:
        line = error.line()
        assert "\n" not in line and line.isprintable(), line
        assert error.file == str(PATH) or (error.file is None and error.field == "--set"), line
        assert error.field is None or one_line(error.field) in line, line
        return
    assert isinstance(result, Scenario)
