"""Cluster munition remnant survey (CMRS): the box search against a naive reference, its limits
(POD 1 finds every cluster, POD 0 nothing), monotone fade-out, conservation, reproducibility,
evidence rates within their binomial error, and bad parameters."""

from __future__ import annotations

import itertools
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from simulator.kernels import cmrs as K

from simulator.config.cmrs import Cmrs
from simulator.config.variants import load_scenario
from simulator.engine.layout import SCORED, root_key
from simulator.engine.prepare import prepare
from simulator.engine.scatter import CellSums, scatter
from simulator.outputs.writer import CMRS_FILES
from simulator.pipeline import simulate
from simulator.release.cmrs import run_cmrs
from simulator.release.land_release import NO_DISC
from simulator.results.cmrs_tables import cmrs_summary, cmrs_table, ratio_se
from tests.conftest import TINY_TOML, write_tiny

GOLDEN = Path(__file__).parent / "data" / "golden" / "tiny_cmrs.csv"
CELL_AREA = 400.0  # 20 m cells: every area below is a whole number of m2, exact in float64

CMRS_TOML = """
[clearance]
start = 2024-07-01
work_unit_m = 100
teams = { nts = 1, ts = 1, bac = 1 }

[clearance.cmrs]
box_m = 40
fade_out_boxes = 2
"""


# ----------------------------------------------------------------------------------------
# A naive reference of the box search: sets and a fixed point, sharing no code with the kernel


def naive_cmrs(count, evidence, found, nx, ny, b, fade):
    """(metrics as a list in ``kernels.cmrs`` order, box states as a dict) of the CMRS box search."""
    boxes = {}
    for row, col in itertools.product(range(ny), range(nx)):
        i = row * nx + col
        key = (row // b, col // b)
        items, seen, finds, cells, empty = boxes.get(key, (0, 0, 0, 0, 0))
        boxes[key] = (items + count[i], seen + evidence[i], finds + found[i], cells + 1, empty + (count[i] == 0))
    evidence_boxes = {k for k, v in boxes.items() if v[1] > 0}
    positive = set(evidence_boxes)
    while True:  # searched: all boxes within fade of a positive box; positive: evidence or a find
        searched = evidence_boxes | {k for k in boxes if any(max(abs(k[0] - p[0]), abs(k[1] - p[1])) <= fade
                                                            for p in positive)}
        grown = evidence_boxes | {k for k in searched if boxes[k][2] > 0}
        if grown == positive:
            break
        positive = grown
    link = max(1, fade)
    parent = {p: p for p in positive}

    def root(p):
        while parent[p] != p:
            p = parent[p]
        return p

    for p, q in itertools.combinations(sorted(positive), 2):
        if max(abs(p[0] - q[0]), abs(p[1] - q[1])) <= link:
            parent[root(p)] = root(q)
    clusters = {}
    for p in positive:
        clusters.setdefault(root(p), []).append(p)
    cha = set()
    for members in clusters.values():
        for axis in (0, 1):
            lines = {}
            for p in members:
                lines.setdefault(p[axis], []).append(p[1 - axis])
            for line, others in lines.items():
                for t in range(min(others), max(others) + 1):
                    cha.add((line, t) if axis == 0 else (t, line))
    m = [0.0] * K.N_METRICS
    m[K.ITEMS] = sum(v[0] for v in boxes.values())
    m[K.EVIDENCE_POINTS] = sum(v[1] for v in boxes.values())
    m[K.EVIDENCE_BOXES] = len(evidence_boxes)
    m[K.SEARCHED_BOXES] = len(searched)
    m[K.SEARCHED_M2] = sum(boxes[k][3] for k in searched) * CELL_AREA
    m[K.FOUND] = sum(boxes[k][2] for k in searched)
    m[K.CHAS] = len(clusters)
    m[K.CHA_M2] = sum(boxes[k][3] for k in cha) * CELL_AREA
    m[K.ITEMS_IN_CHA] = sum(boxes[k][0] for k in cha)
    m[K.MISSED] = m[K.ITEMS] - m[K.ITEMS_IN_CHA]
    m[K.EMPTY_BOX_M2] = sum(boxes[k][3] for k in cha if boxes[k][0] == 0) * CELL_AREA
    m[K.EMPTY_CELL_M2] = sum(boxes[k][4] for k in cha) * CELL_AREA
    states = {k: 2 if k in cha else 1 if k in searched else 0 for k in boxes}
    return m, states


def random_field(seed, nx, ny, density=0.03, cluster=True):
    """Items per cell (int64, flat): a few clumps of items over a sparse background."""
    rng = np.random.default_rng(seed)
    count = (rng.random(nx * ny) < density / 4) * rng.integers(1, 4, nx * ny)
    if cluster:
        for _ in range(3):
            r, c = rng.integers(0, ny), rng.integers(0, nx)
            rr, cc = np.mgrid[0:ny, 0:nx]
            near = (rr - r) ** 2 + (cc - c) ** 2 < rng.integers(4, 40)
            count += (near.ravel() & (rng.random(nx * ny) < 0.3)) * rng.integers(1, 6, nx * ny)
    return count.astype(np.int64)


def kernel_search(count, evidence, found, nx, ny, b, fade):
    nbox = -(-nx // b) * -(-ny // b)
    box, out = np.zeros(nbox, np.int8), np.zeros(K.N_METRICS)
    K.box_search(count, evidence, found, nx, ny, b, fade, CELL_AREA, box, out)
    return out, box


@pytest.mark.parametrize(("seed", "nx", "ny", "b", "fade"),
                         [(1, 30, 20, 3, 2), (2, 23, 17, 4, 1), (3, 40, 31, 5, 0), (4, 16, 16, 1, 3), (5, 37, 29, 3, 4)])
def test_box_search_matches_the_naive_reference_bit_for_bit(seed, nx, ny, b, fade):
    count = random_field(seed, nx, ny)
    rng = np.random.default_rng(seed + 100)
    evidence = rng.binomial(count, 0.2)
    found = rng.binomial(count, 0.6)
    out, box = kernel_search(count, evidence, found, nx, ny, b, fade)
    expected, states = naive_cmrs(count, evidence, found, nx, ny, b, fade)
    nbx = -(-nx // b)
    assert out.tolist() == expected
    assert {(j // nbx, j % nbx): int(s) for j, s in enumerate(box)} == states
    assert out[K.CHAS] >= 1  # the case exercises the search


@pytest.mark.parametrize(("nx", "ny", "b", "fade", "items"),
                         [(1, 1, 1, 2, 3), (1, 1, 1, 0, 0), (7, 5, 50, 1, 1), (9, 6, 2, 3, 0)])
def test_box_search_edges_match_the_naive_reference(nx, ny, b, fade, items):
    """A single cell, a box larger than the grid, a grid without items."""
    count = np.zeros(nx * ny, np.int64)
    count[-1] = items
    evidence, found = count.copy(), np.zeros_like(count)
    out, box = kernel_search(count, evidence, found, nx, ny, b, fade)
    expected, states = naive_cmrs(count, evidence, found, nx, ny, b, fade)
    nbx = -(-nx // b)
    assert out.tolist() == expected
    assert {(j // nbx, j % nbx): int(s) for j, s in enumerate(box)} == states
    assert out[K.CHAS] == (items > 0) and out[K.MISSED] == 0


def run_batch(count, nx, ny, b, fade, p_nts, pod, n=20):
    counts = np.repeat(count[None], n, axis=0)
    out = np.zeros((n, K.N_METRICS))
    boxes = np.zeros((n, -(-nx // b) * -(-ny // b)), np.int8)
    K.cmrs_ensemble(counts, np.zeros(nx * ny, np.uint8), np.array([p_nts]), np.array([pod]), nx, ny, b, fade,
                    CELL_AREA, np.uint64(11), np.uint64(12), 0, out, boxes)
    return out, boxes


def test_full_detection_finds_every_contaminated_box_and_misses_nothing():
    nx, ny, b = 41, 33, 4
    count = random_field(7, nx, ny)
    out, boxes = run_batch(count, nx, ny, b, 2, 1.0, 1.0)
    assert (out[:, K.MISSED] == 0).all() and (out[:, K.ITEMS_IN_CHA] == count.sum()).all()
    assert (out[:, K.EVIDENCE_POINTS] == count.sum()).all()
    held = np.zeros(boxes.shape[1], np.int64)
    np.add.at(held, (np.arange(nx * ny) // nx // b) * -(-nx // b) + np.arange(nx * ny) % nx // b, count)
    assert (boxes[:, held > 0] == K.IN_CHA).all()


def test_pod_zero_finds_nothing_and_no_evidence_no_cha():
    nx, ny, b = 41, 33, 4
    count = random_field(8, nx, ny)
    out, _ = run_batch(count, nx, ny, b, 2, 0.3, 0.0)
    assert (out[:, K.FOUND] == 0).all() and (out[:, K.EVIDENCE_POINTS] > 0).all()
    assert (out[:, K.SEARCHED_BOXES] > out[:, K.EVIDENCE_BOXES]).all()  # boxes were searched, to no avail
    none, boxes = run_batch(count, nx, ny, b, 2, 0.0, 1.0)
    assert (none[:, K.CHAS] == 0).all() and (none[:, K.MISSED] == count.sum()).all() and not boxes.any()


def test_longer_fade_out_never_shrinks_the_cha():
    nx, ny, b = 45, 38, 3
    count = random_field(9, nx, ny, density=0.05)
    areas = np.array([run_batch(count, nx, ny, b, fade, 0.1, 0.6)[0][:, [K.CHA_M2, K.ITEMS_IN_CHA, K.SEARCHED_M2]]
                      for fade in range(5)])
    assert (np.diff(areas, axis=0) >= 0).all()
    assert (areas[-1] > areas[0]).any()


def test_evidence_and_finds_within_their_binomial_error():
    nx, ny, b = 30, 30, 3
    count = random_field(10, nx, ny)
    p, pod, n = 0.3, 0.6, 200
    out, _ = run_batch(count, nx, ny, b, 0, p, pod, n=n)
    total = n * count.sum()
    seen = out[:, K.EVIDENCE_POINTS].sum()
    assert abs(seen - p * total) < 4 * np.sqrt(total * p * (1 - p))
    full, _ = run_batch(count, nx, ny, b, nx, 1.0, pod, n=n)  # every box searched: finds are Binomial(items, pod)
    assert (full[:, K.SEARCHED_BOXES] == (nx // b) ** 2).all()
    assert abs(full[:, K.FOUND].sum() - pod * total) < 4 * np.sqrt(total * pod * (1 - pod))


def test_detection_follows_the_class_of_each_cell():
    nx, ny, b = 20, 20, 4
    count = random_field(11, nx, ny)
    cls = (np.arange(nx * ny) % nx >= nx // 2).astype(np.uint8)  # class 1 in the east half
    out = np.zeros((1, K.N_METRICS))
    boxes = np.zeros((1, (nx // b) * (ny // b)), np.int8)
    K.cmrs_ensemble(count[None], cls, np.array([1.0, 0.0]), np.array([0.0, 0.0]), nx, ny, b, 0, CELL_AREA,
                    np.uint64(1), np.uint64(2), 0, out, boxes)
    west = count.reshape(ny, nx)[:, : nx // 2].sum()
    assert out[0, K.EVIDENCE_POINTS] == west == out[0, K.ITEMS_IN_CHA]  # NTS sees all in the west, none in the east
    assert (boxes.reshape(ny // b, nx // b)[:, nx // b // 2 + 1:] == K.UNSEARCHED).all()


def test_class_overrides_of_detection_and_pod():
    settings = Cmrs(nts_detection=0.4, nts_detection_by_class={"forest": 0.1}, method="bac",
                    pod={"ts": 0.5, "bac": 0.9}, pod_by_class={"forest": {"bac": 0.7}, "road": {"ts": 0.2}})
    assert settings.per_class(("farmland", "forest", "road")) == ([0.4, 0.1, 0.4], [0.9, 0.7, 0.9])


def test_ratio_se_matches_its_definition():
    y, x = np.array([1.0, 2.0, 4.0]), np.array([2.0, 4.0, 4.0])
    r, se = ratio_se(y, x)
    assert r == pytest.approx(0.7)
    assert se == pytest.approx(np.sqrt(np.var(y - 0.7 * x, ddof=1) / 3) / x.mean())
    assert ratio_se(y, np.zeros(3)) == (None, None)


# ----------------------------------------------------------------------------------------
# On the scored realizations of the tiny scenario


def tiny_setup(tmp_path, *overrides):
    path = write_tiny(tmp_path, TINY_TOML.replace("[hazard]", CMRS_TOML + "\n[hazard]"))
    return prepare(load_scenario(path, list(overrides)))


def test_conservation_against_the_scored_realizations(tmp_path):
    setup = tiny_setup(tmp_path)
    n = 12
    survey = run_cmrs(setup, n, threads=1)
    m = survey.metrics
    k = replace(setup.kernel, key=root_key(setup.scenario.simulation.seed, SCORED), disc=NO_DISC)
    totals = scatter(k, 0, n, CellSums.zeros(k, 1)).totals
    assert (m[:, K.ITEMS] == totals[:, 1] - totals[:, 2]).all()  # remnants on the grid
    assert (m[:, K.ITEMS_IN_CHA] + m[:, K.MISSED] == m[:, K.ITEMS]).all()
    assert (m[:, K.CHA_M2] > 0).all() and (m[:, K.EMPTY_CELL_M2] <= m[:, K.CHA_M2]).all()
    assert survey.p_cha.shape == (25, 25) and 0 < survey.p_cha.max() <= 1
    table = cmrs_table(survey)
    assert len(table) == n and (table["items_in_cha"] + table["items_missed"] == table["items_on_grid"]).all()
    summary = cmrs_summary(survey)
    assert summary["items_missed_mean"] == pytest.approx(m[:, K.MISSED].mean(), abs=1e-3)
    assert 0 <= summary["share_cha_empty_boxes"] <= summary["share_cha_empty_cells"] <= 1


def test_golden_tiny_cmrs(tmp_path, request):
    """The tiny scenario's CMRS table, against the file it wrote when checked (``--update-golden`` rewrites it)."""
    table = cmrs_table(run_cmrs(tiny_setup(tmp_path), 8, threads=1))
    if request.config.getoption("--update-golden"):
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        table.to_csv(GOLDEN, index=False, float_format="%.6g")
    expected = pd.read_csv(GOLDEN)
    pd.testing.assert_frame_equal(table, expected, check_exact=False, rtol=1e-5, atol=1e-6, check_dtype=False)


def test_same_results_whatever_the_thread_count(tmp_path):
    setup = tiny_setup(tmp_path)
    one, two = run_cmrs(setup, 7, threads=1), run_cmrs(setup, 7, threads=2)
    assert np.array_equal(one.metrics, two.metrics) and np.array_equal(one.p_cha, two.p_cha)


def test_simulate_surveys_the_scored_realizations(tmp_path):
    path = write_tiny(tmp_path, TINY_TOML.replace("[hazard]", CMRS_TOML + "\n[hazard]"))
    result = simulate(load_scenario(path, ["simulation.realizations=6"]), threads=1)
    assert result.cmrs.metrics.shape == (result.land_release.realizations, K.N_METRICS)
    assert result.summary["cmrs"]["scored_realizations"] == 6 and "cmrs" in result.timings_s


@pytest.mark.slow
def test_run_writes_cmrs_outputs(remnant, tmp_path):
    path = write_tiny(tmp_path, TINY_TOML.replace("[hazard]", CMRS_TOML + "\n[hazard]"))
    out = tmp_path / "out"
    code, stdout, stderr = remnant("run", path, "--out", out, "--realizations", "10")
    assert code == 0, stderr
    assert "CMRS (40 m boxes" in stdout
    rows = (out / "cmrs.csv").read_text().splitlines()
    assert len(rows) == 11 and rows[0].startswith("realization,items_on_grid")
    assert json.loads((out / "run.json").read_text())["summary"]["cmrs"]["scored_realizations"] == 10
    assert set(CMRS_FILES) <= {p.name for p in out.iterdir()}
    code, stdout, stderr = remnant("run", "--check", out, "--threads", "1")  # the survey is rerun byte for byte
    assert code == 0, stdout + stderr


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ("box_m = 40", "box_m = 30", "clearance.cmrs.box_m"),
        ("box_m = 40", "box_m = 0", "clearance.cmrs.box_m"),
        ("fade_out_boxes = 2", "fade_out_boxes = -1", "clearance.cmrs.fade_out_boxes"),
        ("fade_out_boxes = 2", "fade_out_boxes = 2\nnts_detection = 1.5", "clearance.cmrs.nts_detection"),
        ("fade_out_boxes = 2", "fade_out_boxes = 2\nnts_detection_by_class = { forest = -0.1 }",
         "clearance.cmrs.nts_detection_by_class.forest"),
        ("fade_out_boxes = 2", "fade_out_boxes = 2\npod_by_class = { swamp = { ts = 0.5 } }",
         "clearance.cmrs.pod_by_class.swamp"),
        ("fade_out_boxes = 2", 'fade_out_boxes = 2\nmethod = "dogs"', "clearance.cmrs.method"),
        ("fade_out_boxes = 2", "fade_out_boxes = 2\npod = { ts = 2 }", "clearance.cmrs.pod.ts"),
    ],
)
def test_bad_parameters_are_one_line_and_exit_2(remnant, tmp_path, old, new, field):
    path = write_tiny(tmp_path, TINY_TOML.replace("[hazard]", CMRS_TOML.replace(old, new, 1) + "\n[hazard]"))
    out = tmp_path / "out"
    code, _, stderr = remnant("run", path, "--out", out)
    assert code == 2, stderr
    assert len(stderr.strip().splitlines()) == 1 and field in stderr and "Traceback" not in stderr
    assert not out.exists()
