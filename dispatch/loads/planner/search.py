"""The exact search (bin completion), which proves small plans optimal, and large-neighbourhood
repacking, which uses it on a few loads of a large plan at a time (PLANNER.md, "Exact search")."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence

from dispatch.loads.planner.bounds import dual_bound
from dispatch.loads.planner.budget import Budget, OutOfWork
from dispatch.loads.planner.model import (
    Bin,
    Fleet,
    Kinds,
    Packing,
    bin_of,
    limit,
    packing_of,
)

SEARCH_MAX_DEPTH = 600  # the exact searches recurse once per load and per kind: stay clear of the limit


def search_trips(
    k: Kinds, n: Sequence[int], duals: list[list[float]], lower: int, upper: int, budget: Budget
) -> tuple[list[Bin] | None, bool]:
    """Fewest trips by bin completion: for K = lower, lower+1, ... < upper, a depth-first search
    whose every load holds the first remaining (biggest) kind and is maximal; nodes are cut by the
    dual bounds and by a table of remainders already refuted. Returns (a packing into fewer than
    `upper` loads or None, whether its size - or `upper` when None - is proved minimal)."""
    if upper + k.m > SEARCH_MAX_DEPTH:
        return None, False  # one recursion level per load and per kind: too deep for Python
    refuted: dict[tuple[int, ...], int] = {}

    def node_bound(r: list[int]) -> int:
        return max((dual_bound(u, r) for u in duals), default=1)

    def search(r: list[int], left: int, out: list[tuple[int, ...]]) -> bool:
        first = next((i for i, c in enumerate(r) if c), None)
        if first is None:
            return True
        key = tuple(r)
        if left == 0 or refuted.get(key, -1) >= left:
            return False
        budget.charge(2 + len(duals) * k.m / 4)
        if node_bound(r) > left:
            refuted[key] = max(refuted.get(key, -1), left)
            return False
        for pattern in patterns(k, r, first, k.caps, budget):
            for i, c in enumerate(pattern):
                r[i] -= c
            done = search(r, left - 1, out)
            for i, c in enumerate(pattern):
                r[i] += c
            if done:
                out.append(pattern)
                return True
        refuted[key] = max(refuted.get(key, -1), left)
        return False

    for trips in range(max(lower, 1), upper):
        out: list[tuple[int, ...]] = []
        try:
            if search(list(n), trips, out):
                return [bin_of(k, p) for p in reversed(out)], True
        except OutOfWork:
            return None, False
    return None, True


def patterns(
    k: Kinds, r: Sequence[int], first: int, caps: Sequence[tuple[float, float]], budget: Budget
) -> Iterator[tuple[int, ...]]:
    """Loads that hold at least one unit of kind `first` and are maximal (no remaining unit fits
    on top), largest counts first. Only maximal loads need trying: moving units from later loads
    into an earlier one never adds a trip, nor (with a fixed vehicle type) any cost. A count below
    the most that fits is only tried while the kinds after it could still fill the room it leaves."""
    kinds = [i for i in range(first, k.m) if r[i]]
    counts = [0] * k.m
    tail_w, tail_v = [0.0] * (len(kinds) + 1), [0.0] * (len(kinds) + 1)
    for p in range(len(kinds) - 1, -1, -1):
        tail_w[p] = tail_w[p + 1] + r[kinds[p]] * k.w[kinds[p]]
        tail_v[p] = tail_v[p + 1] + r[kinds[p]] * k.v[kinds[p]]
    limits = [(limit(kg), limit(m3)) for kg, m3 in caps]
    node_cost = 1 + len(caps)

    def fill(p: int, weight: float, volume: float) -> Iterator[tuple[int, ...]]:
        budget.charge(node_cost)
        if p == len(kinds):
            budget.charge(len(kinds) * node_cost)
            if all(r[i] == counts[i] or k.room(i, weight, volume, caps) == 0 for i in kinds):
                yield tuple(counts)
            return
        i = kinds[p]
        most = min(r[i], k.room(i, weight, volume, caps))
        for c in range(most, 0 if p == 0 else -1, -1):
            w, v = weight + c * k.w[i], volume + c * k.v[i]
            if c < most and any(
                w + k.w[i] + tail_w[p + 1] <= kg and v + k.v[i] + tail_v[p + 1] <= m3 for kg, m3 in limits
            ):
                break  # one more unit of i would fit whatever follows: never maximal
            counts[i] = c
            yield from fill(p + 1, w, v)
        counts[i] = 0

    yield from fill(0, 0.0, 0.0)


def repack(
    k: Kinds, fleet: Fleet, bins: list[Bin], duals: list[list[float]], lower: int, budget: Budget
) -> Packing:
    """Large neighbourhood search: a few loads (the emptiest, then random picks from a fixed seed,
    so still deterministic) are re-packed by the exact search into one load fewer, while the budget
    lasts and the plan is above the bound."""
    rng = random.Random(len(bins))  # noqa: S311 - not for secrets: a fixed seed, the same input takes the same steps
    top_kg = max(c[0] for c in k.caps)
    top_m3 = max(c[1] for c in k.caps)
    failures = 0
    while len(bins) > lower and failures < 40 and not budget.exhausted:
        size = min(len(bins), 3 + failures % 4)
        by_room = sorted(
            range(len(bins)), key=lambda j: (max(bins[j].weight / top_kg, bins[j].volume / top_m3), j)
        )
        if failures < 4:
            picked = by_room[:size]
        else:  # the emptiest load and some others
            picked = [by_room[0], *rng.sample(by_room[1:], size - 1)]
        merged: dict[int, int] = {}
        for j in picked:
            for i, c in bins[j].counts.items():
                merged[i] = merged.get(i, 0) + c
        kinds = sorted(merged)  # a small instance of just these units (kinds keep their order)
        sub = Kinds(
            w=tuple(k.w[i] for i in kinds),
            v=tuple(k.v[i] for i in kinds),
            n=tuple(merged[i] for i in kinds),
            lines=tuple(() for _ in kinds),
            caps=k.caps,
        )
        sub_duals = [[u[i] for i in kinds] for u in duals]
        floor = max(1, max((dual_bound(u, sub.n) for u in sub_duals), default=1))
        found = None
        if floor < size:
            found, _ = search_trips(sub, sub.n, sub_duals, size - 1, size, budget.part(0.25))
        if found is None:
            failures += 1
            continue
        keep = [b for j, b in enumerate(bins) if j not in set(picked)]
        bins = keep + [Bin({kinds[i]: c for i, c in b.counts.items()}, b.weight, b.volume) for b in found]
    return packing_of(fleet, bins)
