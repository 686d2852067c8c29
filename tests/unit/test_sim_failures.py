"""How `dispatch simulate` turns its failure shares into counts, and which options it refuses."""

from __future__ import annotations

from dispatch.sim.simulate import Options, check, first_share


def test_a_share_is_rounded_but_never_none_when_asked_for() -> None:
    assert first_share(0.0, 10) == 0
    assert first_share(0.1, 3) == 1  # 0.3 rounds to 0, but a failure was asked for
    assert first_share(0.67, 3) == 2
    assert first_share(0.2, 20) == 4
    assert first_share(1.0, 5) == 5


def test_failure_shares_outside_0_to_1_are_refused() -> None:
    assert check(Options(give_back=0.2, breakdowns=0.05)) is None
    assert check(Options(give_back=1.5)) == "--give-back and --breakdowns are shares: from 0 to 1"
    assert check(Options(breakdowns=-0.1)) == "--give-back and --breakdowns are shares: from 0 to 1"


def test_a_swap_share_outside_0_to_1_is_refused() -> None:
    assert check(Options(swaps=0.2, give_back=0.2, breakdowns=0.05)) is None
    assert check(Options(swaps=1.2)) == "--swaps is a share: from 0 to 1"
    assert check(Options(swaps=-0.5)) == "--swaps is a share: from 0 to 1"
