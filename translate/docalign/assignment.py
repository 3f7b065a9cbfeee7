"""One-to-one assignment over a sparse graph of candidate pairs: exact (Hungarian algorithm) on each
small connected group, competitive linking (best pair first) on a large one."""
from __future__ import annotations

import math
from collections import defaultdict

EXACT_GROUP = 60            # connected groups up to this many documents get the exact assignment


def logit(p: float) -> float:
    p = min(max(p, 1e-12), 1 - 1e-12)
    return math.log(p / (1 - p))


def best_assignment(edges: dict[tuple[int, int], float], threshold: float) -> list[tuple[int, int]]:
    """The one-to-one set of edges with the largest total (gain - threshold): the Hungarian algorithm on
    each connected group of candidate edges of up to EXACT_GROUP documents, competitive linking (the
    best edge first, as long as both its documents are free) on a larger group."""
    parent: dict = {}

    def root(x):
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    usable = {k: v for k, v in edges.items() if v > threshold}
    for a, e in usable:
        parent[root(("ar", a))] = root(("en", e))
    groups: dict = defaultdict(list)
    for a, e in usable:
        groups[root(("ar", a))].append((a, e))
    chosen = []
    for group in groups.values():
        rows = sorted({a for a, _ in group})
        cols = sorted({e for _, e in group})
        if len(rows) + len(cols) > EXACT_GROUP:
            chosen.extend(_competitive_linking(group, usable))
            continue
        # cost of a cell: minus its gain; a row may also take one of len(rows) dummy columns (no link)
        cost = [[-(usable[a, e] - threshold) if (a, e) in usable else 0.0 for e in cols] + [0.0] * len(rows)
                for a in rows]
        for r, c in _hungarian(cost).items():
            if c < len(cols) and (rows[r], cols[c]) in usable:
                chosen.append((rows[r], cols[c]))
    return chosen


def _competitive_linking(group: list[tuple[int, int]], gains: dict[tuple[int, int], float]) -> list[tuple[int, int]]:
    taken_ar, taken_en, chosen = set(), set(), []
    for a, e in sorted(group, key=lambda k: -gains[k]):
        if a not in taken_ar and e not in taken_en:
            taken_ar.add(a)
            taken_en.add(e)
            chosen.append((a, e))
    return chosen


def _hungarian(cost: list[list[float]]) -> dict[int, int]:
    """Minimum-cost assignment of every row to a distinct column (rows <= columns), by the O(n^2 m)
    shortest augmenting path method with potentials; returns {row: column}."""
    n, m = len(cost), len(cost[0])
    u, v = [0.0] * (n + 1), [0.0] * (m + 1)
    owner, way = [0] * (m + 1), [0] * (m + 1)     # owner[j]: row (1-based) holding column j
    for i in range(1, n + 1):
        owner[0], j0 = i, 0
        slack, used = [math.inf] * (m + 1), [False] * (m + 1)
        while True:
            used[j0] = True
            i0, delta, j1 = owner[j0], math.inf, 0
            for j in range(1, m + 1):
                if not used[j]:
                    reduced = cost[i0 - 1][j - 1] - u[i0] - v[j]
                    if reduced < slack[j]:
                        slack[j], way[j] = reduced, j0
                    if slack[j] < delta:
                        delta, j1 = slack[j], j
            for j in range(m + 1):
                if used[j]:
                    u[owner[j]] += delta
                    v[j] -= delta
                else:
                    slack[j] -= delta
            j0 = j1
            if owner[j0] == 0:
                break
        while j0:
            j1 = way[j0]
            owner[j0] = owner[j1]
            j0 = j1
    return {owner[j] - 1: j - 1 for j in range(1, m + 1) if owner[j]}
