"""The demo's scenarios, by name: `at` (the default, Linz to Vienna, in English) and `cn` (Tangshan
to Tianjin port, in Chinese). The shape of a scenario is dispatch/sim/scenarios/shape.py."""

from __future__ import annotations

from typing import Final

from dispatch.sim.scenarios.at import AT
from dispatch.sim.scenarios.cn import CN
from dispatch.sim.scenarios.shape import Scenario

__all__ = ["AT", "CN", "DEFAULT", "SCENARIOS", "Scenario"]

SCENARIOS: Final[dict[str, Scenario]] = {"at": AT, "cn": CN}
DEFAULT: Final = "at"
