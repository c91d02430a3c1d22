"""Accept-on-zero QA sampling against the hypergeometric distribution (scipy as the independent reference)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy.stats import hypergeom

from simulator.release.qa import large_lot_sample_size, lot_units, p_accept, p_accept_lots, p_clean_sample, sample_size


def test_large_lot_needs_299_units_for_95_percent_confidence_of_99_percent_clean():
    assert large_lot_sample_size(0.95, 0.99) == 299 == sample_size(0.95, 0.99)
    assert 0.99**299 <= 0.05 < 0.99**298
    # a finite lot needs fewer, and approaches 299 as it grows
    sizes = [sample_size(0.95, 0.99, n) for n in (100, 1_000, 10_000, 1_000_000)]
    assert sizes == sorted(sizes) and sizes[-1] in (298, 299)


@pytest.mark.parametrize("lot,dirty,sample", [(1000, 10, 258), (50, 3, 20), (10_000, 1, 299), (200, 0, 30),
                                              (40, 35, 10), (12, 2, 12)])
def test_operating_characteristic_equals_the_hypergeometric_formula(lot, dirty, sample):
    expected = hypergeom(lot, dirty, sample).pmf(0)
    assert p_clean_sample(lot, dirty, sample) == pytest.approx(expected, rel=1e-9, abs=1e-15)


@pytest.mark.parametrize("p_detect", [1.0, 0.9, 0.5])
@pytest.mark.parametrize("lot,dirty,sample", [(1000, 10, 258), (60, 50, 20), (30, 5, 30)])
def test_pass_probability_with_imperfect_detection(lot, dirty, sample, p_detect):
    ref = hypergeom(lot, dirty, sample)
    expected = sum(ref.pmf(j) * (1 - p_detect) ** j for j in range(min(dirty, sample) + 1))
    assert p_accept(lot, dirty, sample, p_detect) == pytest.approx(expected, rel=1e-9, abs=1e-15)


@pytest.mark.parametrize("confidence,clean", [(0.95, 0.99), (0.9, 0.95), (0.99, 0.999)])
@pytest.mark.parametrize("lot", [20, 150, 1_000, 5_000])
def test_sample_size_is_the_smallest_meeting_the_confidence(confidence, clean, lot):
    n = sample_size(confidence, clean, lot)
    dirty = math.ceil((1 - clean) * lot - 1e-9)
    assert hypergeom(lot, dirty, n).pmf(0) <= 1 - confidence + 1e-12
    if n > 1:
        assert hypergeom(lot, dirty, n - 1).pmf(0) > 1 - confidence


@pytest.mark.parametrize("lot,expected", [(40, 38), (80, 76), (20, 19)])
def test_a_clean_sample_probability_exactly_at_the_bound_passes(lot, expected):
    # one dirty unit: a clean sample of n has probability (lot - n) / lot, exactly 0.05 at n = 0.95 lot
    assert sample_size(0.95, 0.99, lot) == expected


def test_pass_probabilities_of_many_lots_equal_one_by_one():
    rng = np.random.default_rng(5)
    lot = rng.integers(1, 120, 3000)
    dirty = np.minimum(rng.integers(1, 12, 3000), lot)
    sample = np.minimum(rng.integers(1, 90, 3000), lot)
    one_by_one = [p_accept(int(n), int(d), int(k), 0.9) for n, d, k in zip(lot, dirty, sample)]
    assert np.array_equal(p_accept_lots(lot, dirty, sample, 0.9), one_by_one)


def test_vectorised_over_lots():
    lots = np.array([100, 1000, 5000])
    assert np.allclose(p_clean_sample(lots, 5, 50), [hypergeom(n, 5, 50).pmf(0) for n in lots])


def test_cli_prints_the_sample_size(remnant):
    code, stdout, _ = remnant("qa", "--confidence", "0.95", "--clean", "0.99")
    assert code == 0 and "sample 299 units" in stdout
    code, stdout, _ = remnant("qa", "--units", "1000", "--json")
    record = json.loads(stdout)
    assert record["sample_units"] == 258
    oc = {row["dirty_share"]: row["p_accept"] for row in record["operating_characteristic"]}
    assert oc[0.01] == pytest.approx(hypergeom(1000, 10, 258).pmf(0))


@pytest.mark.parametrize("args", [("--confidence", "1.2"), ("--clean", "0"), ("--units", "0")])
def test_cli_bad_values_fail_in_one_line(remnant, args):
    code, _, stderr = remnant("qa", *args)
    assert code == 2 and "Traceback" not in stderr
    assert len(stderr.strip().splitlines()) == 1


def test_cli_takes_a_work_unit_as_the_lot(remnant):
    """A 1 ha work unit in 10 m sampling units is a lot of 100: the same sample as --units 100."""
    _, by_area, _ = remnant("qa", "--area-m2", "10000", "--unit-m", "10", "--json")
    _, by_units, _ = remnant("qa", "--units", "100", "--json")
    assert json.loads(by_area)["lot_units"] == 100
    assert json.loads(by_area)["sample_units"] == json.loads(by_units)["sample_units"] == sample_size(0.95, 0.99, 100)
    assert lot_units(np.array([99.9, 100.0, 399.0]), 10.0).tolist() == [0, 1, 3]


@pytest.mark.parametrize("args", [("--area-m2", "-5"), ("--area-m2", "50", "--unit-m", "10"),
                                  ("--area-m2", "100", "--units", "3"), ("--area-m2", "nan"),
                                  ("--area-m2", "100", "--unit-m", "0")])
def test_cli_bad_work_unit_lots_fail_in_one_line(remnant, args):
    code, _, stderr = remnant("qa", *args)
    assert code == 2 and "Traceback" not in stderr
    assert len(stderr.strip().splitlines()) == 1 and "--area-m2" in stderr
