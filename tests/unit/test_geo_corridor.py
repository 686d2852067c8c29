"""The corridor around the expected route and the off-route rule (geo/corridor.py)."""

from __future__ import annotations

import random

import pytest

from geo import Position, haversine_m
from geo.corridor import Corridor, RouteWatch, corridor_width_m, watch_route

BERLIN = Position(13.405, 52.52)
HAMBURG = Position(9.9937, 53.5511)


def test_the_corridor_is_a_share_of_the_trip_but_never_narrower_than_the_minimum():
    assert corridor_width_m(255_000) == pytest.approx(51_000)
    assert corridor_width_m(30_000) == 10_000
    assert corridor_width_m(30_000, min_width_m=5_000, share=0.5) == 15_000
    wide = Corridor.around([BERLIN, HAMBURG])
    assert wide.width_m == pytest.approx(0.2 * haversine_m(BERLIN, HAMBURG))


def test_distance_to_the_route_is_the_great_circle_distance_to_its_nearest_point():
    c = Corridor([BERLIN, HAMBURG], 10_000)
    # On the segment, at its ends and half way: 0.
    middle = Position((BERLIN.lon + HAMBURG.lon) / 2, (BERLIN.lat + HAMBURG.lat) / 2)
    assert c.distances_m([BERLIN, HAMBURG, middle]) == pytest.approx([0, 0, 0], abs=200)
    # Beyond an end the nearest point is the end itself: Dresden is ~165 km from Berlin.
    dresden = Position(13.7373, 51.0504)
    assert c.distances_m([dresden])[0] == pytest.approx(haversine_m(dresden, BERLIN), rel=0.01)
    # 0.2 degrees of latitude south of Berlin's meridian start: about 22 km, minus the slant of the route.
    south = Position(BERLIN.lon, BERLIN.lat - 0.2)
    assert c.distances_m([south])[0] == pytest.approx(haversine_m(south, BERLIN), rel=0.01)


def test_a_fix_beside_the_middle_of_the_route_is_measured_across_it():
    c = Corridor([Position(10.0, 50.0), Position(12.0, 50.0)], 10_000)
    # 0.1 degree north of an east-west route: ~11.1 km.
    near, far = Position(11.0, 50.1), Position(11.0, 49.8)
    d_near, d_far = c.distances_m([near, far])
    assert d_near == pytest.approx(11_119, rel=0.01)
    assert d_far == pytest.approx(22_239, rel=0.01)
    assert c.outside_each([near, Position(11.0, 50.05)]) == [True, False]


def test_a_route_of_several_legs_keeps_a_truck_on_any_leg_inside():
    bend = Position(11.0, 54.0)
    c = Corridor([BERLIN, bend, HAMBURG], 10_000)
    assert c.outside_each([bend, Position(12.2, 53.26)]) == [False, False]
    assert c.outside_each([Position(11.7, 52.9)]) == [True]  # inside the bend, far from either leg
    with pytest.raises(ValueError, match="two positions"):
        Corridor([BERLIN], 10_000)


def test_off_route_needs_consecutive_fixes_outside_and_is_raised_once():
    state, happened = watch_route(RouteWatch(), [True, True, False, True, True], points_outside=3)
    assert happened == [] and state == RouteWatch(outside_count=2, off_route=False)
    # The count carries over batches: the next fix outside is the third in a row.
    state, happened = watch_route(state, [True, True, True], points_outside=3)
    assert happened == [(0, "off_route")] and state == RouteWatch(outside_count=5, off_route=True)


def test_back_on_route_at_the_first_fix_inside_then_off_again_after_another_run_outside():
    state, happened = watch_route(RouteWatch(3, True), [False, True, True, True, False], points_outside=3)
    assert happened == [(0, "back_on_route"), (3, "off_route"), (4, "back_on_route")]
    assert state == RouteWatch(outside_count=0, off_route=False)
    assert watch_route(RouteWatch(), [False] * 5) == (RouteWatch(), [])


def test_the_one_call_test_agrees_with_the_measured_distance_away_from_the_edge():
    c = Corridor.around([BERLIN, Position(11.0, 54.0), HAMBURG])
    rng = random.Random(23)
    positions = [Position(rng.uniform(8.5, 15.0), rng.uniform(51.5, 54.8)) for _ in range(2000)]
    distances = c.distances_m(positions)
    outside = c.outside_each(positions)
    # The polygon's round ends lie inside the true corridor by at most 0.5 % of its width.
    judged = [
        (o, d > c.width_m)
        for o, d in zip(outside, distances, strict=True)
        if abs(d - c.width_m) > 0.005 * c.width_m
    ]
    assert len(judged) > 1900 and all(a == b for a, b in judged)
    assert sum(o for o, _ in judged) > 100 and sum(not o for o, _ in judged) > 100  # both sides seen
