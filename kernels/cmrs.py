"""Cluster munition remnant survey (CMRS) of one realization's items: evidence, box search, CHA.

The grid is cut into square boxes of ``b`` x ``b`` cells from its upper-left corner (boxes on
the right and bottom edges may be smaller). Per cell holding items, non-technical survey (NTS)
sees each item with the class's probability (an evidence point), and a search of the cell's
box would find each with the class's probability of detection (POD); both are drawn once per
cell, before the search, so the search itself is deterministic.

Search: every box holding an evidence point is searched and is *positive*; every box within
``fade`` boxes (Chebyshev distance: rings of boxes) of a positive box is searched, and a searched
box where the search finds an item is positive too, until no box is added. So the search
stops at a run of ``fade`` empty boxes in every direction beyond the last find. The result does
not depend on the order boxes are searched (it is the least set closed under that rule).

CHA: positive boxes within ``max(1, fade)`` boxes of each other form one cluster (one CHA); a
CHA is its positive boxes plus every box between two of them in the same box row or column.
"""

from __future__ import annotations

import numba
import numpy as np

from .chunks import each_realization
from .jit import jit
from .rng import binomial, seed_stream

CMRS_STREAM = (1 << 62) + 1
"""Stream index of the CMRS draws of a realization, apart from any strike's and land release's."""

# box states in ``box``
UNSEARCHED, SEARCHED, IN_CHA = 0, 1, 2

# metrics per realization, in this order
(ITEMS, EVIDENCE_POINTS, EVIDENCE_BOXES, SEARCHED_BOXES, SEARCHED_M2, FOUND, CHAS, CHA_M2, ITEMS_IN_CHA, MISSED,
 EMPTY_BOX_M2, EMPTY_CELL_M2) = range(12)
N_METRICS = 12


@jit
def draw(count, cell_class, p_nts, pod, state, evidence, found):
    """Per cell (flat), items NTS sees (``evidence``) and items a search of its box finds (``found``)."""
    for i in range(count.shape[0]):
        c = count[i]
        evidence[i] = 0
        found[i] = 0
        if c > 0:
            k = cell_class[i]
            evidence[i] = binomial(state, c, p_nts[k])
            found[i] = binomial(state, c, pod[k])


@jit
def _box_sums(count, evidence, found, nx, ny, b, nbx, nbox):
    """Per box: items, evidence points, finds, cells, cells without items (int64 [5, boxes])."""
    sums = np.zeros((5, nbox), np.int64)
    for row in range(ny):
        base = (row // b) * nbx
        for col in range(nx):
            i = row * nx + col
            j = base + col // b
            sums[0, j] += count[i]
            sums[1, j] += evidence[i]
            sums[2, j] += found[i]
            sums[3, j] += 1
            sums[4, j] += count[i] == 0
    return sums


@jit
def _search(evidence_b, found_b, nbx, nby, fade, box, positive):
    """Search outward from the evidence boxes (see the module); mark ``box`` and ``positive``."""
    nbox = nbx * nby
    queue = np.empty(nbox, np.int64)
    tail = 0
    for j in range(nbox):
        if evidence_b[j] > 0:
            box[j] = SEARCHED
            positive[j] = True
            queue[tail] = j
            tail += 1
    head = 0
    while head < tail:
        j = queue[head]
        head += 1
        r0, c0 = j // nbx, j % nbx
        for r in range(max(0, r0 - fade), min(nby, r0 + fade + 1)):
            for c in range(max(0, c0 - fade), min(nbx, c0 + fade + 1)):
                k = r * nbx + c
                if box[k] == UNSEARCHED:
                    box[k] = SEARCHED
                    if found_b[k] > 0:
                        positive[k] = True
                        queue[tail] = k
                        tail += 1


@jit
def _clusters(positive, nbx, nby, link):
    """Label positive boxes by cluster (boxes within ``link`` boxes of each other; -1: not positive),
    numbered in the order of their first box; return the labels and the number of clusters."""
    nbox = nbx * nby
    label = np.full(nbox, -1, np.int64)
    stack = np.empty(nbox, np.int64)
    n = 0
    for start in range(nbox):
        if not positive[start] or label[start] >= 0:
            continue
        label[start] = n
        stack[0] = start
        top = 1
        while top > 0:
            top -= 1
            j = stack[top]
            r0, c0 = j // nbx, j % nbx
            for r in range(max(0, r0 - link), min(nby, r0 + link + 1)):
                for c in range(max(0, c0 - link), min(nbx, c0 + link + 1)):
                    k = r * nbx + c
                    if positive[k] and label[k] < 0:
                        label[k] = n
                        stack[top] = k
                        top += 1
        n += 1
    return label, n


@jit
def _fill(label, n_clusters, nbx, nby, box):
    """Mark as CHA each positive box and every box between two boxes of one cluster in a row or column."""
    last = np.full(max(n_clusters, 1), -1, np.int64)  # per cluster, its last box seen on this line
    seen = np.full(max(n_clusters, 1), -1, np.int64)  # the line that ``last`` is from
    for line in range(nby + nbx):
        by_row = line < nby
        length = nbx if by_row else nby
        for t in range(length):
            j = line * nbx + t if by_row else t * nbx + (line - nby)
            g = label[j]
            if g < 0:
                continue
            box[j] = IN_CHA
            if seen[g] == line:
                for s in range(last[g] + 1, t):
                    box[line * nbx + s if by_row else s * nbx + (line - nby)] = IN_CHA
            seen[g] = line
            last[g] = t


@jit
def box_search(count, evidence, found, nx, ny, b, fade, cell_area, box, out):
    """Search boxes of ``b`` x ``b`` cells from the evidence (``draw``) with fade-out ``fade`` boxes,
    bound the CHAs and write the realization's metrics (``ITEMS`` .. ``EMPTY_CELL_M2``) into ``out``.

    Per cell (flat, row-major ``ny`` x ``nx``): ``count`` items, ``evidence`` items NTS saw,
    ``found`` items a search of the cell's box finds. ``box`` (int8 [boxes], zeros in) gets each
    box's state: ``UNSEARCHED``, ``SEARCHED`` (not CHA) or ``IN_CHA``. Areas in ``cell_area`` units.
    """
    nbx = (nx + b - 1) // b
    nby = (ny + b - 1) // b
    nbox = nbx * nby
    sums = _box_sums(count, evidence, found, nx, ny, b, nbx, nbox)
    positive = np.zeros(nbox, np.bool_)
    _search(sums[1], sums[2], nbx, nby, fade, box, positive)
    label, n_clusters = _clusters(positive, nbx, nby, max(1, fade))
    searched = np.zeros(nbox, np.bool_)
    for j in range(nbox):
        searched[j] = box[j] != UNSEARCHED
    _fill(label, n_clusters, nbx, nby, box)
    out[:] = 0.0
    out[CHAS] = n_clusters
    for j in range(nbox):
        items, cells = sums[0, j], sums[3, j]
        out[ITEMS] += items
        out[EVIDENCE_POINTS] += sums[1, j]
        out[EVIDENCE_BOXES] += sums[1, j] > 0
        if searched[j]:
            out[SEARCHED_BOXES] += 1
            out[SEARCHED_M2] += cells * cell_area
            out[FOUND] += sums[2, j]
        if box[j] == IN_CHA:
            out[CHA_M2] += cells * cell_area
            out[ITEMS_IN_CHA] += items
            out[EMPTY_CELL_M2] += sums[4, j] * cell_area
            if items == 0:
                out[EMPTY_BOX_M2] += cells * cell_area
    out[MISSED] = out[ITEMS] - out[ITEMS_IN_CHA]


def cmrs_ensemble(counts, cell_class, p_nts, pod, nx, ny, b, fade, cell_area, key0, key1, r_offset, out, boxes,
                  threads=None):
    """CMRS in each realization of a batch, on ``threads`` threads (default: numba's thread count).

    Inputs: ``counts`` (int64 [realization, cell], flat row-major ``ny`` x ``nx``) items per
    cell; ``cell_class`` (uint8 [cell]) index into ``p_nts`` (per class, probability NTS sees an
    item) and ``pod`` (per class, probability a box search finds an item); box side ``b`` cells,
    fade-out ``fade`` boxes, ``cell_area`` (m2); root key and the batch's first realization index.
    Outputs: ``out`` (float64 [realization, N_METRICS]) and ``boxes`` (int8 [realization, box],
    zeros in: rows of boxes from the top, row-major), see ``box_search``. Each realization has
    its own random stream, so results do not depend on threads or batches.
    """
    survey = (np.ascontiguousarray(cell_class, np.uint8), np.ascontiguousarray(p_nts, np.float64),
              np.ascontiguousarray(pod, np.float64), np.int64(nx), np.int64(ny), np.int64(b), np.int64(fade),
              float(cell_area), np.uint64(key0), np.uint64(key1))

    def run(r: int) -> None:
        _cmrs_realization(counts[r], *survey, np.int64(r_offset + r), out[r], boxes[r])

    each_realization(counts.shape[0], threads or numba.get_num_threads(), run)


@jit
def _cmrs_realization(count, cell_class, p_nts, pod, nx, ny, b, fade, cell_area, key0, key1, r, out, boxes):
    """CMRS of realization ``r`` (``count``: its items per cell) on its own random stream."""
    state = np.empty(4, np.uint64)
    seed_stream(state, key0, key1, r, np.int64(CMRS_STREAM))
    evidence = np.empty(count.shape[0], np.int64)
    found = np.empty(count.shape[0], np.int64)
    draw(count, cell_class, p_nts, pod, state, evidence, found)
    box_search(count, evidence, found, nx, ny, b, fade, cell_area, boxes, out)
