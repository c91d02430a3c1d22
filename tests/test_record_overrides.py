"""``--set`` and studies reach strikes read from a records file, as they reach ``[[strikes]]`` tables."""

from __future__ import annotations

import numpy as np
import pytest

from simulator.config.keypath import Setting
from simulator.config.variants import Variants, load_scenario
from simulator.engine.prepare import prepare
from simulator.errors import InputError
from simulator.results.provenance import scenario_hash
from tests.test_strike_records import HEADER, ROWS, records_scenario


def _edited(rows, column, values):
    """The rows with ``column`` replaced by ``values`` (``None``: unchanged), written by hand."""
    index = HEADER.split(",").index(column)
    out = []
    for row, value in zip(rows, values):
        cells = row.split(",")
        if value is not None:
            cells[index] = str(value)
        out.append(",".join(cells))
    return out


def test_set_on_one_record_equals_editing_the_file(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    by_set = prepare(load_scenario(records_scenario(tmp_path / "a"), ["strikes[id=R1].carriers=2"]))
    by_hand = prepare(load_scenario(records_scenario(tmp_path / "b", _edited(ROWS, "carriers", [None, 2, None]))))
    assert list(by_set.strikes.carriers) == [6, 2, 1]
    np.testing.assert_array_equal(by_set.kernel.ti, by_hand.kernel.ti)
    np.testing.assert_array_equal(by_set.kernel.f, by_hand.kernel.f)


def test_set_on_every_record_fills_the_spread_from_the_profile(tmp_path):
    loaded = load_scenario(records_scenario(tmp_path), ["strikes[*].dud_rate.mean=0.3"])
    strikes = prepare(loaded).strikes
    np.testing.assert_array_equal(strikes.dud_mean, [0.3, 0.3, 0.3])
    # A1 and R1 keep their own spread; D1, which had none, takes its profile's.
    profile = loaded.profiles["dispenser-202"]
    np.testing.assert_allclose(strikes.dud_spread, [0.03, 0.0, profile.dud_rate.spread])


def test_scaling_multiplies_each_records_own_value(tmp_path):
    strikes = prepare(load_scenario(records_scenario(tmp_path), ["strikes[profile=rocket-220mm-30].azimuth_deg=2",
                                                                "strikes[id=A1].carriers=3"])).strikes
    assert list(strikes.carriers) == [3, 4, 1]
    np.testing.assert_array_equal(strikes.azimuth_deg, [40.0, 2.0, 90.0])


def test_a_selector_matching_no_record_is_one_line(tmp_path):
    path = records_scenario(tmp_path)
    with pytest.raises(InputError) as caught:
        prepare(load_scenario(path, ["strikes[id=NOPE].carriers=2"]))
    line = caught.value.line()
    assert "strikes.csv" in line and "strikes[id=NOPE].carriers" in line and "matches nothing" in line
    assert "\n" not in line


def test_a_bad_value_set_on_a_record_names_its_line(tmp_path):
    with pytest.raises(InputError) as caught:
        prepare(load_scenario(records_scenario(tmp_path), ["strikes[id=R1].carriers=-1"]))
    assert "line 3" in caught.value.line() and "carriers" in caught.value.line()


def test_sweeps_round_values_set_on_records(tmp_path):
    variants = Variants.read(records_scenario(tmp_path), (), adjust=True)
    loaded = variants.variant([Setting("strikes[id=A1].carriers", 2.6)]).loaded
    assert list(prepare(loaded).strikes.carriers) == [3, 4, 1]


def test_reading_values_of_records_is_refused(tmp_path):
    variants = Variants.read(records_scenario(tmp_path), (), adjust=True)
    with pytest.raises(InputError, match="only known when the run reads"):
        variants.get("strikes[*].carriers")


def test_the_run_hash_covers_settings_on_records(tmp_path):
    path = records_scenario(tmp_path)
    plain = scenario_hash(load_scenario(path))
    assert scenario_hash(load_scenario(path, ["strikes[id=R1].carriers=2"])) != plain
    assert scenario_hash(load_scenario(path, ["strikes[id=R1].carriers=4"])) != plain  # set, even to its own value


def test_an_index_counts_only_strike_tables(tmp_path):
    with pytest.raises(InputError, match="select records by id or field instead"):
        load_scenario(records_scenario(tmp_path), ["strikes[0].carriers=2"])
