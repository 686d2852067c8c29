import itertools
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from geo import EARTH_RADIUS_M, Position, haversine_m, initial_bearing_deg
from geo.coordinates import path_length_m


@pytest.mark.parametrize(
    ("b", "expected"),
    [
        (Position(10.0, 51.0), 0.0),
        (Position(11.0, 50.0), 90.0),
        (Position(10.0, 49.0), 180.0),
        (Position(9.0, 50.0), 270.0),
    ],
)
def test_bearing_due_north_east_south_west(b: Position, expected: float) -> None:
    # Due east/west along a parallel the great circle starts off exactly perpendicular to the meridian.
    assert initial_bearing_deg(Position(10.0, 50.0), b) == pytest.approx(expected, abs=0.5)


def test_bearing_on_the_equator_is_exact() -> None:
    origin = Position(0.0, 0.0)
    assert initial_bearing_deg(origin, Position(0.0, 1.0)) == 0.0
    assert initial_bearing_deg(origin, Position(1.0, 0.0)) == 90.0
    assert initial_bearing_deg(origin, Position(0.0, -1.0)) == 180.0
    assert initial_bearing_deg(origin, Position(-1.0, 0.0)) == 270.0


def test_bearing_from_point_to_itself_is_north() -> None:
    assert initial_bearing_deg(Position(10.0, 50.0), Position(10.0, 50.0)) == 0.0


def test_bearing_east_at_high_latitude_starts_poleward() -> None:
    # The great circle to a point due east bulges toward the pole, so it leaves north of east.
    assert initial_bearing_deg(Position(0.0, 60.0), Position(20.0, 60.0)) == pytest.approx(81.3, abs=0.1)


positions = st.builds(Position, st.floats(-180, 180), st.floats(-90, 90))


@given(positions, positions)
def test_bearing_is_in_range(a: Position, b: Position) -> None:
    assert 0.0 <= initial_bearing_deg(a, b) < 360.0


def test_haversine_quarter_meridian() -> None:
    assert haversine_m(Position(0, 0), Position(0, 90)) == pytest.approx(EARTH_RADIUS_M * math.pi / 2)


positions = st.builds(Position, st.floats(-180, 180), st.floats(-89.9, 89.9))


@given(st.lists(positions, max_size=60))
def test_path_length_is_the_sum_of_the_legs(points: list[Position]) -> None:
    legs = sum(haversine_m(a, b) for a, b in itertools.pairwise(points))
    assert path_length_m(points) == pytest.approx(legs, rel=1e-9, abs=1e-6)
