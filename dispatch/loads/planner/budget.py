"""The time budget as deterministic work units, never a clock: the same input always gives the
same plan, byte for byte (PLANNER.md, "Time budget")."""

from __future__ import annotations

import math

# The time budget becomes work units, never a clock: same input, same plan. One unit is roughly a
# microsecond of CPython on the development machine (calibrated with bench/planner.py).
WORK_UNITS_PER_MS = 1000.0
DEFAULT_BUDGET_MS = 150.0
EXACT_MAX_ITEMS = 30  # exact=None: the exact search is tried up to this many items
EXACT_COST_BUDGET_FACTOR = 10  # exact=True: trips are proved whatever it takes; cost gets 10x the budget


class OutOfWork(Exception):
    """The search spent its budget (unwinds a deep recursion at once)."""


class Budget:
    """Deterministic work accounting: one counter (at the root) and, per phase, an absolute
    deadline on it; `part()` hands a phase a share of what is left."""

    def __init__(self, total: float | None, parent: Budget | None = None) -> None:
        self.root: Budget = self if parent is None else parent.root
        self.spent = 0.0  # meaningful at the root
        limit = math.inf if total is None else self.root.spent + total
        self.deadline: float = limit if parent is None else min(parent.deadline, limit)

    def spend(self, units: float) -> None:
        self.root.spent += units

    @property
    def exhausted(self) -> bool:
        return self.root.spent >= self.deadline

    def part(self, fraction: float) -> Budget:
        if self.deadline == math.inf:
            return Budget(None, self)
        return Budget(max(0.0, (self.deadline - self.root.spent) * fraction), self)

    def charge(self, units: float) -> None:
        """Spend, and stop the search when nothing is left."""
        root = self.root
        root.spent += units
        if root.spent >= self.deadline:
            raise OutOfWork
