"""Plans for an item order: first fit decreasing, and LP rounding (PLANNER.md, "Packing")."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from dispatch.loads.planner.bounds import dual_bound
from dispatch.loads.planner.budget import Budget
from dispatch.loads.planner.lp import LP, LP_NOISE
from dispatch.loads.planner.model import (
    Bin,
    Fleet,
    Kinds,
    Packing,
    better,
    bin_of,
    fits,
    limit,
    packing_of,
)
from dispatch.loads.planner.search import search_trips

_RUNS_MAX_KINDS = 40  # first fit on runs of equal loads up to this many kinds, a segment tree beyond


def best_first_fit(
    k: Kinds, fleet: Fleet, n: Sequence[int], budget: Budget, start: Sequence[Bin] = ()
) -> Packing:
    best: Packing | None = None
    for order in _orders(k):
        if k.m <= _RUNS_MAX_KINDS:
            bins = _first_fit(k, order, n, [b.copy(b.mult) for b in start], budget)
        else:
            bins = _first_fit_tree(k, order, n, start, budget)
        candidate = packing_of(fleet, bins)
        if better(best, candidate):
            best = candidate
    assert best is not None
    return best


def _orders(k: Kinds) -> list[list[int]]:
    """Kind orders for first fit decreasing: by the larger, the sum, weight, volume (relative)."""
    top_kg = max(c[0] for c in k.caps)
    top_m3 = max(c[1] for c in k.caps)
    keys: list[Callable[[int], float]] = [
        lambda i: max(k.w[i] / top_kg, k.v[i] / top_m3),
        lambda i: k.w[i] / top_kg + k.v[i] / top_m3,
        lambda i: k.w[i],
        lambda i: k.v[i],
    ]
    orders: list[list[int]] = []
    for key in keys:
        order = sorted(range(k.m), key=lambda i: (-key(i), i))
        if order not in orders:
            orders.append(order)
    return orders


def _first_fit(
    k: Kinds, order: Sequence[int], n: Sequence[int], bins: list[Bin], budget: Budget
) -> list[Bin]:
    """First fit, kind by kind in `order`, on runs of identical loads: the same result as item-by-
    item first fit, in O(kinds x runs) however many units there are. Appends to `bins`."""
    for i in order:
        left = n[i]
        j = 0
        budget.spend(len(bins) * (1 + len(k.caps)) * 0.8)
        while left and j < len(bins):
            b = bins[j]
            fit = min(k.room(i, b.weight, b.volume, k.caps), left)
            if fit:
                if fit * b.mult <= left:
                    b.add(k, i, fit)
                    left -= fit * b.mult
                else:
                    full, rest = divmod(left, fit)
                    runs = []
                    if full:
                        runs.append(b.copy(full))
                        runs[-1].add(k, i, fit)
                    if rest:
                        runs.append(b.copy(1))
                        runs[-1].add(k, i, rest)
                    untouched = b.mult - full - (1 if rest else 0)
                    if untouched:
                        runs.append(b.copy(untouched))
                    bins[j : j + 1] = runs
                    left = 0
            j += 1
        if left:
            per_load = min(k.room(i, 0.0, 0.0, k.caps), left)
            full, rest = divmod(left, per_load)
            for units, mult in ((per_load, full), (rest, 1)):
                if units and mult:
                    b = Bin({}, 0.0, 0.0, mult)
                    b.add(k, i, units)
                    bins.append(b)
    return bins


def _first_fit_tree(
    k: Kinds, order: Sequence[int], n: Sequence[int], start: Sequence[Bin], budget: Budget
) -> list[Bin]:
    """The same first fit for orders of many kinds (where runs of equal loads are rare): single
    loads, and the first one that takes a unit found in O(log loads) by a segment tree of the most
    kg and m³ each load still has free, instead of a scan over every load."""
    bins = [b.copy(1) for b in start for _ in range(b.mult)]
    limits = [(limit(kg), limit(m3)) for kg, m3 in k.caps]
    slack = 1e-9 * max(max(c) for c in limits)  # the tree only filters: room() decides
    size = 1
    while size < len(bins) + 1:
        size *= 2
    free_w, free_v = [-1.0] * (2 * size), [-1.0] * (2 * size)

    def update(j: int) -> None:
        b = bins[j]
        fitting = [(kg - b.weight, m3 - b.volume) for kg, m3 in limits if b.weight <= kg and b.volume <= m3]
        p = size + j
        free_w[p] = max((f[0] for f in fitting), default=-1.0)
        free_v[p] = max((f[1] for f in fitting), default=-1.0)
        p //= 2
        while p:
            w, v = max(free_w[2 * p], free_w[2 * p + 1]), max(free_v[2 * p], free_v[2 * p + 1])
            if free_w[p] == w and free_v[p] == v:
                break  # nothing changes further up
            free_w[p], free_v[p] = w, v
            p //= 2

    def first(i: int) -> int | None:
        need_w, need_v = k.w[i] - slack, k.v[i] - slack
        stack = [1]
        while stack:
            p = stack.pop()
            if free_w[p] < need_w or free_v[p] < need_v:
                continue
            if p >= size:
                j = p - size
                if k.room(i, bins[j].weight, bins[j].volume, k.caps):
                    return j
                continue
            stack.append(2 * p + 1)
            stack.append(2 * p)  # the left subtree first: the first load that fits
        return None

    for o in range(len(bins)):
        update(o)
    for i in order:
        left = n[i]
        while left:
            found = first(i)
            j = len(bins) if found is None else found
            if found is None:
                bins.append(Bin({}, 0.0, 0.0))
                if j >= size:  # grow the tree: double it and refill
                    size *= 2
                    free_w, free_v = [-1.0] * (2 * size), [-1.0] * (2 * size)
                    for o in range(j):
                        update(o)
            units = min(left, k.room(i, bins[j].weight, bins[j].volume, k.caps))
            bins[j].add(k, i, units)
            left -= units
            update(j)
            budget.spend(15 + 3 * len(k.caps))
    return bins


def _rounded(k: Kinds, lp: LP) -> tuple[list[tuple[tuple[int, ...], int]], list[int]]:
    """floor(x_p) copies of each basic load, then one more of the most fractional ones, while the
    units last: (load, copies) and the units left over."""
    left = list(k.n)
    out: list[tuple[tuple[int, ...], int]] = []
    columns = sorted(lp.columns, key=lambda c: (-c[1], c[0]))
    extra = sorted(columns, key=lambda c: (-(c[1] - math.floor(c[1] + LP_NOISE)), c[0]))
    for pattern, copies in [(p, math.floor(x + LP_NOISE)) for p, x in columns] + [(p, 1) for p, _ in extra]:
        use = min(copies, min((left[i] // c for i, c in enumerate(pattern) if c), default=0))
        b = bin_of(k, pattern)
        if use and any(fits(b.weight, b.volume, kg, m3) for kg, m3 in k.caps):
            # (a load the LP found: checked again here, a plan must never trust the floats)
            for i, c in enumerate(pattern):
                left[i] -= c * use
            out.append((pattern, use))
    return out, left


def round_lp(k: Kinds, fleet: Fleet, lp: LP, budget: Budget, duals: list[list[float]]) -> Packing:
    """LP rounding: the rounded LP's loads, then the residual: first fit into the room left (or,
    when small, the exact search on its own)."""
    rounded, left = _rounded(k, lp)
    bins = []
    for pattern, copies in rounded:
        b = bin_of(k, pattern)
        b.mult = copies
        bins.append(b)
    best = best_first_fit(k, fleet, left, budget, bins)
    if sum(left) and not budget.exhausted:
        alone = best_first_fit(k, fleet, left, budget)
        lower = max(1, max((dual_bound(u, left) for u in duals), default=1))
        if alone.trips > lower:
            found, _ = search_trips(k, left, duals, lower, alone.trips, budget)
            if found is not None:
                alone = packing_of(fleet, found)
        candidate = packing_of(fleet, [b.copy(b.mult) for b in bins] + alone.bins)
        if better(best, candidate):
            best = candidate
    return best
