"""Lower bounds on the trips of an item order (PLANNER.md, "Lower bounds").

A dual vector u (one value per kind) is *valid* when every load that fits a vehicle has
sum(u_i * a_i) <= 1; then ceil(sum(u_i * n_i)) is a lower bound on trips (Farley). All bounds
but the big-items one are such vectors, so the exact search reuses them at every node.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from dispatch.loads.planner.budget import Budget
from dispatch.loads.planner.model import (
    Kinds,
    limit,
)

# Dual vectors are shrunk by this much so that float noise can never make a bound invalid.
DUAL_SHRINK = 1.0 - 1e-8


def ceil_bound(value: float) -> int:
    """The trips a bound of `value` proves: its ceiling, from a hair below, so that float noise
    landing a sum just over a whole number it equals does not count as one more trip."""
    return math.ceil(value - 1e-7)


def dual_bound(u: Sequence[float], r: Sequence[int]) -> int:
    """The trips the valid dual vector u proves for the units r."""
    return ceil_bound(sum(a * b for a, b in zip(u, r, strict=True)))


def _capacity_duals(k: Kinds) -> list[list[float]]:
    """The vertices (a, b) of {a*kg_t + b*m3_t <= 1 for every vehicle}: u_i = a*w_i + b*v_i.
    Their best is the LP 'total weight and volume over capacities' bound for a mixed fleet."""
    caps = k.caps
    points = {(1.0 / max(c[0] for c in caps), 0.0), (0.0, 1.0 / max(c[1] for c in caps))}
    pairs = (
        [(i, j) for i in range(len(caps)) for j in range(i + 1, len(caps))]
        if len(caps) <= 20
        else [(i, i + 1) for i in range(len(caps) - 1)]
    )
    for i, j in pairs:
        (w1, v1), (w2, v2) = caps[i], caps[j]
        det = w1 * v2 - w2 * v1
        if det == 0:
            continue
        a, b = (v2 - v1) / det, (w1 - w2) / det
        if a >= 0 and b >= 0 and all(a * w + b * v <= 1 + 1e-12 for w, v in caps):
            points.add((a, b))
    return [
        [(a * k.w[i] + b * k.v[i]) * DUAL_SHRINK for i in range(k.m)]
        for a, b in sorted(points)  # sorted: set order must never leak into results
    ]


def _dff_duals(k: Kinds) -> list[list[float]]:
    """Dual-feasible functions (Fekete & Schepers) per dimension and vehicle: u_i is the smallest
    f(size_i / capacity) over the vehicles the unit fits. Families: u^(k) (k = units per vehicle,
    catches '37 pallets per truck, not 37.5') and U^(eps) (units over half a truck count whole)."""
    out: list[list[float]] = []
    per_family = 40 if k.m <= 50 else max(3, 1500 // k.m)  # each costs O(kinds x vehicles)
    for sizes, dim in ((k.w, 0), (k.v, 1)):
        # size/capacity per kind and fitting vehicle, shrunk a hair: float noise must not count.
        fracs = [[sizes[i] / cap[dim] * (1 - 2e-9) for cap in k.caps if k.fits(i, cap)] for i in range(k.m)]
        weight_of: dict[tuple[str, float], float] = {}
        for i, xs in enumerate(fracs):
            for x in xs:
                if x <= 0:
                    continue
                if 1 / x < 1e6:
                    key = ("k", float(math.floor(1 / x)))
                    weight_of[key] = weight_of.get(key, 0.0) + k.n[i] * x
                eps = ("e", x) if x <= 0.5 else ("e", min(0.5, 1 - x + 1e-7))
                weight_of[eps] = weight_of.get(eps, 0.0) + k.n[i] * x
        for family in ("k", "e"):
            params = sorted((p for p in weight_of if p[0] == family), key=lambda p: (-weight_of[p], p[1]))
            for _, p in params[:per_family]:
                out.append([min(_dff(family, p, x) for x in xs) * DUAL_SHRINK for xs in fracs])
    return out


def _dff(family: str, p: float, x: float) -> float:
    if family == "k":  # u^(k)(x) = floor((k+1)x)/k, rounded down so float noise never inflates it
        return math.floor((p + 1) * x * (1 - 1e-12)) / p
    if x > 1 - p:  # U^(eps)
        return 1.0
    return x if x >= p else 0.0


def _big_items_bound(k: Kinds) -> int:
    """Martello-Toth L2 for two dimensions and a mixed fleet: units that pairwise fit no vehicle
    together each need their own trip; the rest must fit in the room those trips leave or in new
    trips. Tried for every prefix of the (greedy) set of such units, biggest first."""
    limits = [(limit(kg), limit(m3)) for kg, m3 in k.caps]
    top_kg = max(c[0] for c in limits)
    top_m3 = max(c[1] for c in limits)
    # Members that no other member undercuts in both kg and m3: a unit shares a vehicle with some
    # member iff it does with one of these (erring towards "shares": the bound stays valid).
    floor_set: list[tuple[float, float]] = []
    clique: list[int] = []
    for i in range(k.m):
        w, v = k.w[i], k.v[i]
        if k.n[i] > 1 and any(w + w <= kg and v + v <= m3 for kg, m3 in limits):
            continue
        if any(
            fw <= kg - w + kg * 1e-12 and fv <= m3 - v + m3 * 1e-12
            for kg, m3 in limits
            for fw, fv in floor_set
        ):
            continue
        clique.append(i)
        if not any(fw <= w and fv <= v for fw, fv in floor_set):
            floor_set = [(fw, fv) for fw, fv in floor_set if not (w <= fw and v <= fv)] + [(w, v)]
    rest_w = sum(k.n[i] * k.w[i] for i in range(k.m))
    rest_v = sum(k.n[i] * k.v[i] for i in range(k.m))
    alone = spare_w = spare_v = 0.0
    best = 0
    for i in clique:
        alone += k.n[i]
        rest_w -= k.n[i] * k.w[i]
        rest_v -= k.n[i] * k.v[i]
        spare_w += k.n[i] * max(
            lim[0] - k.w[i] for lim, c in zip(limits, k.caps, strict=True) if k.fits(i, c)
        )
        spare_v += k.n[i] * max(
            lim[1] - k.v[i] for lim, c in zip(limits, k.caps, strict=True) if k.fits(i, c)
        )
        more = max(0.0, (rest_w - spare_w) / top_kg, (rest_v - spare_v) / top_m3)
        best = max(best, int(alone) + ceil_bound(more * DUAL_SHRINK))
    return best


@dataclass
class Bounds:
    value: int  # the best lower bound on trips
    duals: list[list[float]]  # valid dual vectors, best first, for the search's node bounds


def root_bounds(k: Kinds, budget: Budget) -> Bounds:
    candidates = _capacity_duals(k) + _dff_duals(k)
    budget.spend(len(candidates) * k.m * (1 + len(k.caps)) * 0.5 + k.m * 8)
    scored = [(dual_bound(u, k.n), u) for u in candidates]
    scored.sort(key=lambda s: -s[0])  # stable: ties keep their (deterministic) order
    duals = [u for _, u in scored[:8]]
    return Bounds(max(scored[0][0], _big_items_bound(k), 1), duals)
