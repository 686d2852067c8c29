"""The pattern LP (Gilmore-Gomory) by column generation: a better lower bound, and loads to round
(PLANNER.md, "The pattern LP")."""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass

from dispatch.loads.planner.bounds import DUAL_SHRINK, ceil_bound
from dispatch.loads.planner.budget import Budget, OutOfWork
from dispatch.loads.planner.model import (
    MANY,
    Bin,
    Kinds,
    limit,
)

# Simplex noise: LP values within this of 0, 1 or a whole number are taken as that number.
LP_NOISE = 1e-9
_LP_MAX_KINDS = 60  # the pattern LP on the kinds themselves up to this many, on rounded-down classes beyond


@dataclass
class LP:
    bound: int  # ceil of the best Farley bound found
    value: float  # the last primal objective (an upper bound on the LP optimum)
    columns: list[tuple[tuple[int, ...], float]]  # basic loads with their (fractional) use
    duals: list[list[float]]  # valid dual vectors (y / max pattern value)


def pattern_lp(k: Kinds, budget: Budget, enough: int | None, seed: Sequence[Bin] = ()) -> tuple[LP, bool]:
    """The pattern LP of the kinds, or of rounded-down classes when there are too many kinds
    (then its loads are not loads of the order: the flag says whether they can be rounded).
    `seed`: loads of a plan, a warm start (still loads once their units shrink to their class's)."""
    if k.m <= _LP_MAX_KINDS:
        columns = sorted({tuple(b.counts.get(i, 0) for i in range(k.m)) for b in seed})
        return _column_generation(k, budget, enough, columns), True
    classes, class_of = _grouped(k)
    grouped: set[tuple[int, ...]] = set()
    for b in seed:
        counts = [0] * classes.m
        for i, c in b.counts.items():
            counts[class_of[i]] += c
        grouped.add(tuple(counts))
    lp = _column_generation(classes, budget, enough, sorted(grouped))
    lp.duals = [[u[class_of[i]] for i in range(k.m)] for u in lp.duals]
    return lp, False


def _column_generation(
    k: Kinds, budget: Budget, enough: int | None, seed: Sequence[tuple[int, ...]] = ()
) -> LP:
    """Gilmore-Gomory: min sum(x_p) s.t. sum_p a_p x_p >= n over all loads p, by a revised simplex
    (dense basis inverse). Entering columns come from a pool of loads met so far (seeded with the
    heuristic's), else from the exact knapsack, which also certifies the bound: any dual y gives
    the valid bound y.n / max_p y.a_p (Farley), sound even when the budget stops the LP early or
    the simplex drifts. Stops once ceil(bound) reaches `enough` (the incumbent: nothing left to
    prove) or the rounded-up LP value."""
    m = k.m
    limits = [[min(k.n[i], k.room(i, 0.0, 0.0, [cap])) for i in range(m)] for cap in k.caps]
    basis, inverse, x = _starting_basis(k, limits)
    best = 0.0
    best_duals: list[list[float]] = []
    pool: list[tuple[int, ...]] = []
    pooled: set[tuple[int, ...]] = set()

    def remember(column: tuple[int, ...]) -> None:
        if column not in pooled:
            pooled.add(column)
            pool.append(column)

    def value(y: list[float], column: tuple[int, ...]) -> float:
        return sum(y[i] * c for i, c in enumerate(column) if c)

    def certify(y: list[float]) -> tuple[int, ...] | None:
        """Exact pricing: updates the bound; the best load, or None when nothing is left to do."""
        nonlocal best, best_duals
        priced = [_knapsack(y, k, cap, limits[c], budget) for c, cap in enumerate(k.caps)]
        z = max(p[0] for p in priced)
        if z > 0:
            farley = sum(max(0.0, y[i]) * k.n[i] for i in range(m)) / z
            if farley > best:
                best = farley
                best_duals = [[max(0.0, y[i]) / z * DUAL_SHRINK for i in range(m)]]
        rounded = ceil_bound(best * DUAL_SHRINK)
        primal = sum(x[r] for r in range(m) if basis[r] is not None)
        if (
            z <= 1 + LP_NOISE
            or (enough is not None and rounded >= enough)
            or rounded >= math.ceil(primal - LP_NOISE)
        ):
            return None
        return max(priced, key=lambda p: p[0])[1]

    for column in seed:
        remember(column)
    pivot_cost = 3 + m * m / 8
    try:
        for _ in range(20 * m + 200):
            if budget.exhausted:
                break
            cost_b = [1.0 if col is not None else 0.0 for col in basis]
            y = [sum(cost_b[r] * inverse[r][j] for r in range(m)) for j in range(m)]
            budget.spend(pivot_cost + len(pool) * m / 4)
            negative = min(range(m), key=lambda j: (y[j], j))
            entering: tuple[int, ...] | None = None
            if y[negative] < -LP_NOISE:  # a surplus column enters: keeps the duals non-negative
                dense = [-1.0 if j == negative else 0.0 for j in range(m)]
            else:
                entering = max(pool, key=lambda a: value(y, a), default=None)
                if entering is None or value(y, entering) <= 1 + 1e-6:
                    entering = certify(y)
                    if entering is None:
                        break
                remember(entering)
                dense = [float(c) for c in entering]
            if not _pivot(inverse, x, basis, dense, entering):
                break
    except OutOfWork:
        pass
    columns = [(col, x[r]) for r, col in enumerate(basis) if col is not None and x[r] > LP_NOISE]
    primal = sum(x for _, x in columns)
    return LP(ceil_bound(best * DUAL_SHRINK), primal, columns, best_duals)


def _starting_basis(
    k: Kinds, limits: list[list[int]]
) -> tuple[list[tuple[int, ...] | None], list[list[float]], list[float]]:
    """(basis, its inverse, x): one homogeneous load per kind, as many units as the roomiest
    capacity takes (diagonal, so its inverse is trivial)."""
    m = k.m
    height = [max(limits[c][i] for c in range(len(k.caps))) for i in range(m)]
    basis: list[tuple[int, ...] | None] = [
        tuple(height[i] if j == i else 0 for j in range(m)) for i in range(m)
    ]
    inverse = [[(1.0 / height[i] if i == j else 0.0) for j in range(m)] for i in range(m)]
    x = [k.n[i] / height[i] for i in range(m)]
    return basis, inverse, x


def _grouped(k: Kinds) -> tuple[Kinds, list[int]]:
    """Linear grouping: the kinds in size order cut into at most _LP_MAX_KINDS runs of about
    equal units; a class's unit is the componentwise smallest of its members. Shrunk units keep
    every load a load, so the LP of the classes is still a lower bound, and its duals (a class's,
    given to each member) stay valid. Returns (classes, the class of each kind)."""
    target = -(-sum(k.n) // _LP_MAX_KINDS)
    groups: list[list[int]] = [[]]
    units = 0
    for i in range(k.m):  # kinds come biggest first
        if units >= target and len(groups) < _LP_MAX_KINDS:
            groups.append([])
            units = 0
        groups[-1].append(i)
        units += k.n[i]
    w = tuple(min(k.w[i] for i in g) for g in groups)
    v = tuple(min(k.v[i] for i in g) for g in groups)
    classes = Kinds(
        w=w,
        v=v,
        n=tuple(sum(k.n[i] for i in g) for g in groups),
        lines=tuple(() for _ in groups),
        caps=k.caps,
    )
    return classes, [c for c, g in enumerate(groups) for _ in g]


def _pivot(
    inverse: list[list[float]],
    x: list[float],
    basis: list[tuple[int, ...] | None],
    column: list[float],
    entering: tuple[int, ...] | None,
) -> bool:
    """One simplex pivot: the ratio test picks the leaving row, then the basis inverse is updated."""
    m = len(x)
    d = [sum(inverse[r][j] * column[j] for j in range(m) if column[j]) for r in range(m)]
    leaving, ratio = -1, math.inf
    for r in range(m):
        if d[r] > 1e-11:
            t = x[r] / d[r]
            if t < ratio - 1e-12:
                leaving, ratio = r, t
    if leaving < 0:
        return False
    pivot_row = inverse[leaving]
    scale = 1.0 / d[leaving]
    for j in range(m):
        pivot_row[j] *= scale
    for r in range(m):
        if r != leaving and d[r]:
            factor = d[r]
            row = inverse[r]
            for j in range(m):
                row[j] -= factor * pivot_row[j]
            x[r] -= factor * ratio
            if x[r] < 0:
                x[r] = 0.0
    x[leaving] = ratio
    basis[leaving] = entering
    return True


def _knapsack(
    values: Sequence[float], k: Kinds, cap: tuple[float, float], upto: Sequence[int], budget: Budget
) -> tuple[float, tuple[int, ...]]:
    """max sum(values_i a_i) over loads a that fit `cap`, 0 <= a_i <= upto_i: depth-first branch
    and bound over kinds by value per surrogate size, cut by `_FractionalBound`. Returns (the
    optimum, its load). The search runs to the end (or to the budget, which raises OutOfWork)."""
    kg = limit(cap[0])
    m3 = limit(cap[1])
    items = [i for i in range(k.m) if values[i] > 1e-12 and upto[i] > 0]
    if not items:
        return 0.0, (0,) * k.m
    order = sorted(items, key=lambda i: (-values[i] / max(k.w[i] / kg + k.v[i] / m3, 1e-300), i))
    upper = _FractionalBound(values, k, upto, order).bound
    best_value, best = 0.0, [0] * k.m
    counts = [0] * k.m
    cost = 6 + len(items) / 20  # units per node: fitted on bench/planner.py instances

    def search(p: int, kg_left: float, m3_left: float, value: float) -> None:
        nonlocal best_value, best
        if value > best_value:
            best_value, best = value, list(counts)
        if p == len(order) or value + upper(p, kg_left, m3_left) <= best_value * (1 + 1e-12) + 1e-12:
            return
        budget.charge(cost)
        i = order[p]
        most = min(upto[i], _count_within(k.w[i], kg_left), _count_within(k.v[i], m3_left))
        for c in range(most, -1, -1):
            counts[i] = c
            search(p + 1, kg_left - c * k.w[i], m3_left - c * k.v[i], value + c * values[i])
        counts[i] = 0

    search(0, kg, m3, 0.0)
    return best_value, tuple(best)


class _FractionalBound:
    """The knapsack's bound from depth p on: the smaller of the weight-only and the volume-only
    fractional knapsacks over the kinds not yet decided. Per dimension and depth, the kinds still
    free, by value per size, as running totals of size and value, so a bound is one bisection
    (a table is built when its depth is first reached)."""

    def __init__(self, values: Sequence[float], k: Kinds, upto: Sequence[int], order: list[int]) -> None:
        self.values, self.k, self.upto = values, k, upto
        self.rank = {i: p for p, i in enumerate(order)}
        rank = self.rank
        self.by_w = sorted(order, key=lambda i: (-(values[i] / k.w[i]) if k.w[i] > 0 else -math.inf, rank[i]))
        self.by_v = sorted(order, key=lambda i: (-(values[i] / k.v[i]) if k.v[i] > 0 else -math.inf, rank[i]))
        self.tables: dict[tuple[int, int], tuple[float, list[float], list[float], list[float]]] = {}

    def bound(self, start: int, kg_left: float, m3_left: float) -> float:
        return min(self._fractional(0, kg_left, start), self._fractional(1, m3_left, start))

    def _fractional(self, dim: int, room: float, start: int) -> float:
        free, cum_size, cum_value, ratio = self._table(dim, start)
        j = bisect.bisect_right(cum_size, room)
        if j == len(cum_size):
            return free + (cum_value[-1] if cum_value else 0.0)
        before_size, before_value = (cum_size[j - 1], cum_value[j - 1]) if j else (0.0, 0.0)
        return free + before_value + (room - before_size) * ratio[j]

    def _table(self, dim: int, start: int) -> tuple[float, list[float], list[float], list[float]]:
        if (dim, start) not in self.tables:
            values, upto = self.values, self.upto
            sizes = self.k.w if dim == 0 else self.k.v
            free, size, value = 0.0, 0.0, 0.0
            cum_size, cum_value, ratio = [], [], []
            for i in self.by_w if dim == 0 else self.by_v:
                if self.rank[i] < start:
                    continue
                if sizes[i] <= 0:
                    free += values[i] * upto[i]
                    continue
                size += upto[i] * sizes[i]
                value += upto[i] * values[i]
                cum_size.append(size)
                cum_value.append(value)
                ratio.append(values[i] / sizes[i])
            self.tables[(dim, start)] = (free, cum_size, cum_value, ratio)
        return self.tables[(dim, start)]


def _count_within(unit: float, room: float) -> int:
    """The most units with unit * count <= room (exactly, whatever the division rounds to)."""
    if unit <= 0:
        return MANY
    if room < 0:
        return 0
    count = int(room / unit)
    while count > 0 and count * unit > room:
        count -= 1
    while (count + 1) * unit <= room:
        count += 1
    return count
