"""Load planner benchmark: trips against the lower bound and the exact optimum, and planning time.

    python3 dev.py bench planner [--seed 7] [--per-class 70] [--budget-ms 150]

Generates reproducible instances (seeded) of realistic freight in three classes: bulk; items on
a fleet of one vehicle type; items on a mixed fleet (25 t trucks, 7.5-12 t trucks, heavy and
volume trailers). Item orders are coil lots (each coil weighed: 5-24 t, or a mill run in a
narrow 3 t band, the hard case), pallets (0.3-1.2 t, 1-2.5 m3), or mixes of coils, pallets, big
bags, sacks, pipes and crates; from a few items up to 1,000. Pure CPU: no database, no server.

Prints per class, beside the raw baseline measured in the same run (a naive first fit: each item
in input order onto the first trip it fits, on the first vehicle of the fleet):
- mean and max gap of trips to the lower bound (%), planner and baseline;
- up to 30 items: the exact optimum (plan(exact=True)) against the default plan() and the pure
  heuristic (exact=False): how many are optimal, the largest excess;
- p50/p99 planning time of the default plan(), and p99 on the 1,000-item instances;
and whether each target is met.
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import time
from dataclasses import dataclass, field

from dispatch.loads import planner
from dispatch.loads.planner import Bulk, Line, Vehicle

# -- instances --------------------------------------------------------------------------------

TRUCKS = [(24_000, 80), (25_000, 90), (26_000, 92), (27_000, 100)]
SMALL = [(7_500, 35), (12_000, 50)]
SPECIAL = [(40_000, 60), (24_000, 100)]  # a heavy trailer, a volume (mega) trailer


@dataclass
class Instance:
    cls: str
    cargo: planner.Cargo
    fleet: list[Vehicle]
    items: int  # total units (0 for bulk)


def _fleet(rng: random.Random, mixed: bool) -> list[Vehicle]:
    size = rng.randint(1, 6)
    if not mixed:
        kg, m3 = rng.choice(TRUCKS)
        return [Vehicle(f"T{j}", kg, m3, 50_000) for j in range(size)]
    kinds = [*rng.sample(TRUCKS, 2), *rng.sample(SMALL, 1), rng.choice(SPECIAL)]
    fleet = []
    for j in range(max(size, 2)):
        kg, m3 = kinds[j % len(kinds)] if j < 2 else rng.choice(kinds)
        cost = round(18_000 + kg * 1.2 + m3 * 40, -2)
        fleet.append(Vehicle(f"V{j}", kg, m3, int(cost)))
    rng.shuffle(fleet)
    return fleet


def _unit(rng: random.Random, family: str) -> tuple[float, float, str]:
    if family == "coil":
        return round(rng.uniform(5_000, 24_000), -1), round(rng.uniform(1.5, 4.0), 2), "steel coil"
    if family == "pallet":
        return round(rng.uniform(300, 1_200)), round(rng.uniform(1.0, 2.5), 2), "pallet"
    if family == "bigbag":
        return round(rng.uniform(500, 1_000)), round(rng.uniform(0.8, 1.5), 2), "big bag"
    if family == "sack":
        return float(rng.choice([25, 40, 50])), rng.choice([0.03, 0.04, 0.05]), "sack"
    if family == "pipe":
        return round(rng.uniform(1_500, 6_000)), round(rng.uniform(4.0, 12.0), 1), "pipe bundle"
    return round(rng.uniform(2_000, 8_000)), round(rng.uniform(5.0, 15.0), 1), "crate"


FAMILIES = ["coil", "pallet", "bigbag", "sack", "pipe", "crate"]


def _lines(rng: random.Random, total: int, fleet: list[Vehicle]) -> tuple[Line, ...]:
    top_kg = max(v.capacity_kg for v in fleet)
    top_m3 = max(v.capacity_m3 for v in fleet)
    scenario = rng.choice(["coil lot", "coil run", "pallets", "general"])
    if scenario.startswith("coil"):  # coils are weighed one by one: a line per coil (or per pair)
        # A "run" from one mill: weights in a narrow band near a third or a half of a truck, the
        # hard case for packing (every trip must pair or triple them just right).
        low = rng.uniform(6_000, 13_000) if scenario == "coil run" else 5_000
        high = low + 3_000 if scenario == "coil run" else 24_000
        out, left = [], total
        while left:
            count = min(left, rng.choice([1, 1, 1, 2]))
            left -= count
            w = round(rng.uniform(low, high), -1)
            out.append(Line(count, min(w, top_kg), round(rng.uniform(1.5, 4.0), 2), "steel coil"))
        return tuple(out)
    n_lines = min(total, rng.randint(1, 5))
    if scenario == "pallets":
        families = ["pallet"] * n_lines
    else:
        families = [rng.choice(FAMILIES) for _ in range(n_lines)]
        if total <= 30:  # small orders: the heavy and bulky units that make packing hard
            families = [f if f != "sack" else "coil" for f in families]
    weights = [rng.random() + 0.2 for _ in families]
    counts = [max(1, int(total * w / sum(weights))) for w in weights]
    counts[0] += total - sum(counts)
    out = []
    for family, count in zip(families, counts, strict=True):
        w, v, name = _unit(rng, family)
        if w > top_kg or v > top_m3:
            w, v = min(w, top_kg * 0.9), min(v, top_m3 * 0.9)
        out.append(Line(count, w, v, name))
    return tuple(out)


def _bulk(rng: random.Random) -> Bulk:
    density = rng.choice([0.3, 0.45, 0.75, 0.8, 1.4, 1.6])  # t/m3: chips, malt, wheat, maize, sand, gravel
    kg = rng.randint(3_000, 2_000_000)
    return Bulk(kg, round(kg / 1000 / density, 1), "bulk")


def instances(seed: int, per_class: int) -> list[Instance]:
    rng = random.Random(seed)
    out = []
    for _ in range(per_class):
        out.append(Instance("bulk", _bulk(rng), _fleet(rng, rng.random() < 0.5), 0))
    for cls, mixed in (("items, 1 type", False), ("items, mixed", True)):
        for j in range(per_class):
            tier = j % 7
            total = rng.randint(3, 30) if tier < 4 else rng.randint(31, 300) if tier < 6 else 1000
            fleet = _fleet(rng, mixed)
            out.append(Instance(cls, _lines(rng, total, fleet), fleet, total))
    return out


# -- the baseline -----------------------------------------------------------------------------


def naive_first_fit(cargo: planner.Cargo, fleet: list[Vehicle]) -> int:
    """Each item in input order onto the first open trip it fits, all trips on the first vehicle
    (an item too big for it opens a trip on the first vehicle that takes it)."""
    first = fleet[0]
    if isinstance(cargo, Bulk):
        per_trip = min(first.capacity_kg, first.capacity_m3 * cargo.weight_kg / cargo.volume_m3)
        return math.ceil(cargo.weight_kg / math.floor(per_trip)) if per_trip >= 1 else 10**9
    trips: list[list[float]] = []  # [kg used, m3 used, kg cap, m3 cap]
    for line in cargo:
        for _ in range(line.count):
            w, v = line.unit_weight_kg, line.unit_volume_m3
            for t in trips:
                if t[0] + w <= t[2] and t[1] + v <= t[3]:
                    t[0] += w
                    t[1] += v
                    break
            else:
                vehicle = next(x for x in [first, *fleet] if w <= x.capacity_kg and v <= x.capacity_m3)
                trips.append([w, v, vehicle.capacity_kg, vehicle.capacity_m3])
    return len(trips)


# -- running ----------------------------------------------------------------------------------


@dataclass
class Stats:
    gaps: list[float] = field(default_factory=list)
    naive_gaps: list[float] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    big_times: list[float] = field(default_factory=list)
    small: int = 0
    default_optimal: int = 0
    default_excess: int = 0
    heuristic_optimal: int = 0
    heuristic_excess: int = 0
    proved: int = 0
    exact_time: float = 0.0
    worst: list[tuple[float, str]] = field(default_factory=list)


def _pct(samples: list[float], q: int) -> float:
    if len(samples) == 1:
        return samples[0]
    return statistics.quantiles(samples, n=100, method="inclusive")[q - 1]


def describe(case: Instance) -> str:
    if isinstance(case.cargo, Bulk):
        return f"{case.cls}, {case.cargo.weight_kg:,} kg"
    kg = [line.unit_weight_kg for line in case.cargo]
    return (
        f"{case.cls}, {case.items} items in {len(case.cargo)} lines, units {min(kg):,.0f}-{max(kg):,.0f} kg"
    )


def run(seed: int, per_class: int, budget_ms: float) -> bool:
    cases = instances(seed, per_class)
    stats: dict[str, Stats] = {}
    for case in cases:
        s = stats.setdefault(case.cls, Stats())
        t0 = time.perf_counter()
        result = planner.plan(case.cargo, case.fleet, time_budget_ms=budget_ms)
        elapsed = time.perf_counter() - t0
        assert not planner.check(
            case.cargo, case.fleet, [(x.vehicle_id, x.bulk_kg, x.items) for x in result.loads]
        ), "the planner broke a rule"
        s.times.append(elapsed * 1000)
        if case.items == 1000:
            s.big_times.append(elapsed * 1000)
        s.gaps.append(100 * (result.trips - result.lower_bound) / result.lower_bound)
        if result.trips > result.lower_bound:
            s.worst.append(
                (s.gaps[-1], f"{describe(case)}: {result.trips} trips, bound {result.lower_bound}")
            )
        s.proved += result.optimal
        s.naive_gaps.append(
            100 * (naive_first_fit(case.cargo, case.fleet) - result.lower_bound) / result.lower_bound
        )
        if 0 < case.items <= 30:
            t0 = time.perf_counter()
            optimum = planner.plan(case.cargo, case.fleet, exact=True).trips
            s.exact_time += time.perf_counter() - t0
            heuristic = planner.plan(case.cargo, case.fleet, time_budget_ms=budget_ms, exact=False).trips
            s.small += 1
            s.default_optimal += result.trips == optimum
            s.default_excess = max(s.default_excess, result.trips - optimum)
            s.heuristic_optimal += heuristic == optimum
            s.heuristic_excess = max(s.heuristic_excess, heuristic - optimum)
    return report(stats, budget_ms)


def report(stats: dict[str, Stats], budget_ms: float) -> bool:
    every_gap = [g for s in stats.values() for g in s.gaps]
    every_time = [t for s in stats.values() for t in s.times]
    big = [t for s in stats.values() for t in s.big_times]
    print(
        f"{'class':<15}{'n':>5}{'gap mean':>10}{'gap max':>9}{'proved':>8}{'naive mean':>12}{'naive max':>11}"
        f"{'p50 ms':>8}{'p99 ms':>8}"
    )
    for cls, s in stats.items():
        print(
            f"{cls:<15}{len(s.gaps):>5}{statistics.mean(s.gaps):>9.2f}%{max(s.gaps):>8.1f}%{s.proved:>8}"
            f"{statistics.mean(s.naive_gaps):>11.1f}%{max(s.naive_gaps):>10.1f}%"
            f"{_pct(s.times, 50):>8.1f}{_pct(s.times, 99):>8.1f}"
        )
    print()
    print("up to 30 items, against the exact optimum (plan(exact=True)):")
    print(
        f"{'class':<15}{'n':>5}{'plan() optimal':>16}{'max excess':>12}{'exact=False optimal':>21}"
        f"{'max excess':>12}{'exact s':>9}"
    )
    worst = 0
    for cls, s in stats.items():
        if s.small:
            worst = max(worst, s.default_excess)
            print(
                f"{cls:<15}{s.small:>5}{s.default_optimal:>16}{s.default_excess:>12}{s.heuristic_optimal:>21}"
                f"{s.heuristic_excess:>12}{s.exact_time:>9.1f}"
            )
    print()
    print("the largest gaps to the bound:")
    for gap, text in sorted((w for s in stats.values() for w in s.worst), reverse=True)[:3]:
        print(f"  {gap:5.1f}%  {text}")
    print()
    mean_gap = statistics.mean(every_gap)
    p99_big = _pct(big, 99) if big else 0.0
    print(
        f"1,000-item instances: n={len(big)}, p50 {_pct(big, 50):.1f} ms, p99 {p99_big:.1f} ms, "
        f"max {max(big):.1f} ms"
    )
    print(
        f"all instances: n={len(every_gap)}, planning p50 {_pct(every_time, 50):.1f} ms, "
        f"p99 {_pct(every_time, 99):.1f} ms (budget {budget_ms:.0f} ms)"
    )
    targets = [
        ("never more than one trip above the optimum (<= 30 items)", worst <= 1, f"max excess {worst}"),
        ("mean gap to the lower bound within 2%", mean_gap <= 2.0, f"{mean_gap:.2f}%"),
        ("1,000 items planned in under 200 ms (p99)", p99_big < 200, f"{p99_big:.1f} ms"),
    ]
    print()
    for name, met, value in targets:
        print(f"[{'met' if met else 'NOT MET'}] {name}: {value}")
    return all(met for _, met, _ in targets)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--per-class", type=int, default=70, help="instances per class (3 classes)")
    parser.add_argument("--budget-ms", type=float, default=planner.DEFAULT_BUDGET_MS)
    args = parser.parse_args()
    t0 = time.perf_counter()
    run(args.seed, args.per_class, args.budget_ms)
    print(f"\n(benchmark wall time {time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
