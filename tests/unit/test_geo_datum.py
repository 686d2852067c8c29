"""geo.datum: the WGS-84 -> GCJ-02 shift of maps in mainland China against published pairs, its
inverse, and no shift abroad."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geo import Position, gcj02_to_wgs84, haversine_m, out_of_china, wgs84_to_gcj02
from tests.datum_pairs import ABROAD, FORWARD, INVERSE

TOLERANCE_DEG = 1e-5


@pytest.mark.parametrize(("wgs", "gcj"), FORWARD.values(), ids=FORWARD.keys())
def test_published_pairs_forward_and_back(wgs, gcj):
    shifted = wgs84_to_gcj02(*wgs)
    assert shifted.lon == pytest.approx(gcj[0], abs=TOLERANCE_DEG)
    assert shifted.lat == pytest.approx(gcj[1], abs=TOLERANCE_DEG)
    back = gcj02_to_wgs84(*gcj)
    assert back.lon == pytest.approx(wgs[0], abs=1e-6)
    assert back.lat == pytest.approx(wgs[1], abs=1e-6)
    # The shift is real: hundreds of metres, which is why a truck drawn unshifted is off the road.
    assert 100 < haversine_m(Position(*wgs), shifted) < 1000


@pytest.mark.parametrize(("gcj", "wgs"), INVERSE.values(), ids=INVERSE.keys())
def test_published_pairs_inverse(gcj, wgs):
    back = gcj02_to_wgs84(*gcj)
    assert back.lon == pytest.approx(wgs[0], abs=TOLERANCE_DEG)
    assert back.lat == pytest.approx(wgs[1], abs=TOLERANCE_DEG)


def test_tiananmen_moves_to_where_chinese_maps_draw_it():
    # WGS-84 (116.397128, 39.916527), quoted with GCJ-02 "about (116.40341, 39.91793)" in issue 18's
    # brief: the transform agrees to a few metres (4e-5 degrees of longitude).
    shifted = wgs84_to_gcj02(116.397128, 39.916527)
    assert shifted.lon == pytest.approx(116.40341, abs=5e-5)
    assert shifted.lat == pytest.approx(39.91793, abs=TOLERANCE_DEG)


@pytest.mark.parametrize("place", ABROAD.values(), ids=ABROAD.keys())
def test_no_shift_outside_china(place):
    assert out_of_china(*place)
    assert wgs84_to_gcj02(*place) == place
    assert gcj02_to_wgs84(*place) == place


# Mainland China, kept inside the published box by a margin wider than the shift.
china_lon = st.floats(min_value=73.0, max_value=135.0, allow_nan=False)
china_lat = st.floats(min_value=18.0, max_value=53.5, allow_nan=False)


@settings(max_examples=500)
@given(china_lon, china_lat)
def test_inverse_round_trip_over_china(lon, lat):
    assert not out_of_china(lon, lat)
    shifted = wgs84_to_gcj02(lon, lat)
    back = gcj02_to_wgs84(*shifted)
    assert math.hypot(back.lon - lon, back.lat - lat) < 1e-6
    # and the other way round: a GCJ-02 position taken back and shifted again lands where it was.
    again = wgs84_to_gcj02(*gcj02_to_wgs84(lon, lat))
    assert math.hypot(again.lon - lon, again.lat - lat) < 1e-6
