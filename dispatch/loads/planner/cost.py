"""The same trips at a lower cost: an exact cost search for small orders, a local search beyond
(PLANNER.md, "Cost")."""

from __future__ import annotations

import math
from collections.abc import Callable

from dispatch.loads.planner.bounds import dual_bound
from dispatch.loads.planner.budget import Budget, OutOfWork
from dispatch.loads.planner.model import (
    Bin,
    Fleet,
    Kinds,
    VehicleType,
    bin_of,
    fits,
    packing_of,
)
from dispatch.loads.planner.search import SEARCH_MAX_DEPTH, patterns


def lower_cost(
    k: Kinds,
    fleet: Fleet,
    trips: int,
    bins: list[Bin],
    duals: list[list[float]],
    budget: Budget,
    search: bool,
) -> list[Bin]:
    """Same trips, lower cost: the exact cost search when `search`, the local search otherwise."""
    incumbent = packing_of(fleet, bins).cost
    if search:
        found, _ = _search_cost(k, fleet, trips, duals, incumbent, budget.part(0.9))
        if found is not None:
            return found
    if all(b.mult == 1 for b in bins):
        _cheapen(k, fleet, bins, budget.part(0.9))
    return bins


def _cost_types(fleet: Fleet) -> list[VehicleType]:
    """Types worth paying for: none with at most the capacity of a type that costs no more."""
    useful = []
    for t in fleet.types:
        dominated = any(
            (o.kg, o.m3, o.cost) != (t.kg, t.m3, t.cost)
            and o.kg >= t.kg
            and o.m3 >= t.m3
            and o.cost <= t.cost
            for o in fleet.types
        )
        if not dominated:
            useful.append(t)
    return sorted(useful, key=lambda t: (t.cost, -t.kg, -t.m3))


def _search_cost(
    k: Kinds, fleet: Fleet, trips: int, duals: list[list[float]], incumbent: int, budget: Budget
) -> tuple[list[Bin] | None, bool]:
    """Cheapest packing into `trips` loads: bin completion over (type, load maximal for that type
    and fitting no cheaper type), nodes cut by `_cost_bound`. Returns (a cheaper packing or None,
    whether the result is proved cheapest)."""
    if trips + k.m > SEARCH_MAX_DEPTH:
        return None, False
    types = _cost_types(fleet)
    cost_bound = _cost_bound(k, types, duals)

    best_cost = incumbent
    best: list[tuple[int, ...]] | None = None
    refuted: dict[tuple[tuple[int, ...], int], float] = {}
    chosen: list[tuple[int, ...]] = []

    def search(r: list[int], left: int, spent: int) -> None:
        nonlocal best_cost, best
        first = next((i for i, c in enumerate(r) if c), None)
        if first is None:
            if spent < best_cost:
                best_cost, best = spent, list(chosen)
            return
        allowance = best_cost - spent
        key = (tuple(r), left)
        if left == 0 or refuted.get(key, -math.inf) >= allowance:
            return
        budget.charge(2 + len(duals) * k.m / 4)
        needed = max((dual_bound(u, r) for u in duals), default=1)
        if needed > left or cost_bound(r, needed) >= allowance - 1e-9:
            refuted[key] = max(refuted.get(key, -math.inf), allowance)
            return
        for j, t in enumerate(types):
            if t.cost >= allowance:
                break
            cheaper = [(o.kg, o.m3) for o in types[:j] if o.cost < t.cost]
            for pattern in patterns(k, r, first, [(t.kg, t.m3)], budget):
                weight = sum(c * k.w[i] for i, c in enumerate(pattern))
                volume = sum(c * k.v[i] for i, c in enumerate(pattern))
                budget.charge(2 + k.m)
                if any(fits(weight, volume, kg, m3) for kg, m3 in cheaper):
                    continue  # the same load on a cheaper vehicle is tried there
                for i, c in enumerate(pattern):
                    r[i] -= c
                chosen.append(pattern)
                search(r, left - 1, spent + t.cost)
                chosen.pop()
                for i, c in enumerate(pattern):
                    r[i] += c
        refuted[key] = max(refuted.get(key, -math.inf), allowance)

    try:
        search(list(k.n), trips, 0)
        finished = True
    except OutOfWork:
        finished = False
    return (None if best is None else [bin_of(k, p) for p in best]), finished


def _cost_bound(
    k: Kinds, types: list[VehicleType], duals: list[list[float]]
) -> Callable[[list[int], int], float]:
    """A lower bound on the cost of carrying the units r in at least `trips_needed` trips, the best
    of: per-unit shares cost_t * (l*w/kg_t + (1-l)*v/m3_t) for l in 0, 1/2, 1; and tiers: the units
    no vehicle cheaper than c takes need at least their trips bound of trips costing c or more, the
    rest of the trips cost at least the cheapest."""
    cheapest = types[0].cost
    shares = []
    for lam in (0.0, 0.5, 1.0):
        share = []
        for i in range(k.m):
            options = [
                t.cost * (lam * k.w[i] / t.kg + (1 - lam) * k.v[i] / t.m3)
                for t in types
                if fits(k.w[i], k.v[i], t.kg, t.m3)
            ]
            share.append(min(options) * (1 - 1e-9))
        shares.append(share)

    floor_cost = [min(t.cost for t in types if fits(k.w[i], k.v[i], t.kg, t.m3)) for i in range(k.m)]
    tiers = sorted({c for c in floor_cost if c > cheapest}, reverse=True)

    def cost_bound(r: list[int], trips_needed: int) -> float:
        by_share = max(sum(s * c for s, c in zip(sh, r, strict=True)) for sh in shares)
        layered, forced = 0.0, 0
        for tier in tiers:  # dearest first: each tier's forced trips include the dearer tiers'
            units = [c if floor_cost[i] >= tier else 0 for i, c in enumerate(r)]
            now = max(forced, max((dual_bound(u, units) for u in duals), default=0))
            layered += (now - forced) * tier
            forced = now
        layered += max(0, trips_needed - forced) * cheapest
        return max(by_share, layered)

    return cost_bound


def _cheapen(k: Kinds, fleet: Fleet, bins: list[Bin], budget: Budget) -> None:
    """Local search for cost: make a load fit a cheaper vehicle by moving some of its units into
    other loads that stay on vehicles no dearer than before. Loads are single (mult 1)."""
    types = _cost_types(fleet)
    envelopes: dict[int, list[tuple[float, float]]] = {}

    def caps_upto(cost: int) -> list[tuple[float, float]]:
        if cost not in envelopes:
            envelopes[cost] = [(t.kg, t.m3) for t in types if t.cost <= cost]
        return envelopes[cost]

    def cost_of(b: Bin) -> int:
        t = fleet.cheapest(b.weight, b.volume)
        assert t is not None, "a load fits no vehicle"
        return fleet.types[t].cost

    def spare(o: int) -> tuple[float, float]:
        """Upper bounds on the kg and m³ load o can still take without a dearer vehicle."""
        b = bins[o]
        fitting = [(kg, m3) for kg, m3 in caps_upto(costs[o]) if fits(b.weight, b.volume, kg, m3)]
        return max(kg - b.weight for kg, _ in fitting), max(m3 - b.volume for _, m3 in fitting)

    costs = [cost_of(b) for b in bins]
    spares = [spare(o) for o in range(len(bins))]
    budget.spend(len(bins) * (1 + len(types)))
    improved = True
    while improved and not budget.exhausted:
        improved = False
        total_w = sum(s[0] for s in spares)
        total_v = sum(s[1] for s in spares)
        for j in sorted(range(len(bins)), key=lambda j: (-costs[j], j)):
            # The least saving first: the smallest change is the likeliest to work.
            for target in sorted(
                (t for t in types if t.cost < costs[j]), key=lambda t: (-t.cost, -t.kg, -t.m3)
            ):
                budget.spend(1)
                if (
                    bins[j].weight - target.kg > total_w - spares[j][0]
                    or bins[j].volume - target.m3 > total_v - spares[j][1]
                ):
                    continue  # the other loads cannot take the excess between them
                moves = _unloading(k, bins, costs, j, target, caps_upto, budget)
                if budget.exhausted:
                    return
                if moves is not None:
                    for i, receiver in moves:
                        bins[receiver].add(k, i, 1)
                        bins[j].add(k, i, -1)
                    costs[j] = cost_of(bins[j])
                    for o in {j, *(receiver for _, receiver in moves)}:
                        spares[o] = spare(o)
                    total_w = sum(s[0] for s in spares)
                    total_v = sum(s[1] for s in spares)
                    improved = True
                    break


def _unloading(
    k: Kinds,
    bins: list[Bin],
    costs: list[int],
    j: int,
    target: VehicleType,
    caps_upto: Callable[[int], list[tuple[float, float]]],
    budget: Budget,
) -> list[tuple[int, int]] | None:
    """Moves (kind, receiving load) that make bins[j] fit `target`, smallest units first, each unit
    to the first load that takes it within vehicles no dearer than that load's; None if none."""
    b = bins[j]
    weight, volume = b.weight, b.volume
    extra: dict[int, tuple[float, float]] = {}
    moves: list[tuple[int, int]] = []
    kinds = sorted(b.counts, key=lambda i: (k.w[i] / target.kg + k.v[i] / target.m3, i))
    for i in kinds:
        for _ in range(b.counts[i]):
            if fits(weight, volume, target.kg, target.m3):
                return moves
            receiver = None
            for o, other in enumerate(bins):
                if o == j:
                    continue
                dw, dv = extra.get(o, (0.0, 0.0))
                w, v = other.weight + dw + k.w[i], other.volume + dv + k.v[i]
                if any(fits(w, v, kg, m3) for kg, m3 in caps_upto(costs[o])):
                    receiver = o
                    break
            budget.spend(1 + (len(bins) if receiver is None else receiver) * 1.2)
            if receiver is None or budget.exhausted:
                return None
            dw, dv = extra.get(receiver, (0.0, 0.0))
            extra[receiver] = (dw + k.w[i], dv + k.v[i])
            weight -= k.w[i]
            volume -= k.v[i]
            moves.append((i, receiver))
    return moves if fits(weight, volume, target.kg, target.m3) else None
