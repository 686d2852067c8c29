"""Reading Traccar Client's OsmAnd requests into points (pure), as Traccar's documentation and server
decoder define the two forms."""

from datetime import UTC, datetime

import pytest

from dispatch.errors import BadRequest
from dispatch.tracking.osmand import KNOT_MPS, decode

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
FORM = "application/x-www-form-urlencoded"


def test_query_parameters_speed_in_knots_and_unix_seconds():
    query = [
        ("id", "ABC"), ("lat", "52.5"), ("lon", "13.4"), ("timestamp", "1796644800"), ("speed", "10"),
        ("bearing", "90.5"), ("altitude", "40"), ("accuracy", "6"), ("batt", "87.4"), ("valid", "true"),
    ]  # fmt: skip
    report = decode(query, "", b"", now=NOW)
    assert report.tracker_id == "ABC"
    (p,) = report.points
    assert (p.lat, p.lon, p.accuracy_m, p.heading_deg, p.battery_pct) == (52.5, 13.4, 6.0, 90.5, 87)
    assert p.speed_mps == pytest.approx(10 * 0.514444, abs=1e-5) == pytest.approx(10 * KNOT_MPS)
    assert p.recorded_at == datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("sent", "read"),
    [
        ("1796644800000", datetime(2026, 12, 7, 12, 0, tzinfo=UTC)),  # milliseconds from 2^31 on
        ("2026-12-07T13:00:00+01:00", datetime(2026, 12, 7, 12, 0, tzinfo=UTC)),
        ("2026-12-07T12:00:00Z", datetime(2026, 12, 7, 12, 0, tzinfo=UTC)),
        ("2026-12-07 12:00:00", datetime(2026, 12, 7, 12, 0, tzinfo=UTC)),  # no zone: UTC
        ("", NOW),  # absent: now
    ],
)
def test_timestamps_in_every_form_traccar_reads(sent, read):
    (p,) = decode([("id", "A"), ("lat", "1"), ("lon", "2"), ("timestamp", sent)], "", b"", now=NOW).points
    assert p.recorded_at == read


def test_a_form_body_when_the_query_is_empty_and_the_query_when_it_is_not():
    body = b"deviceid=XYZ&location=52.5%2C13.4&heading=10&hdop=12&timestamp=1796644800"
    report = decode([], FORM, body, now=NOW)
    (p,) = report.points
    assert report.tracker_id == "XYZ" and (p.lat, p.lon, p.heading_deg) == (52.5, 13.4, 10.0)
    assert p.accuracy_m == 12.0  # the OsmAnd app's hdop is its fix's accuracy in metres
    assert decode([("id", "Q"), ("lat", "1"), ("lon", "2")], FORM, body, now=NOW).tracker_id == "Q"


def test_the_json_form_of_traccar_client_9():
    body = b"""{"location": {"timestamp": "2026-12-07T12:00:00.000Z",
        "coords": {"latitude": 52.5, "longitude": 13.4, "accuracy": 5, "speed": 12.5, "heading": -1,
                   "altitude": 40}, "is_moving": true, "odometer": 120.5, "event": "motionchange",
        "battery": {"level": 0.42, "is_charging": true}, "activity": {"type": "in_vehicle"},
        "extras": {}, "uuid": "x"}, "device_id": "DEV"}"""
    report = decode([], "application/json; charset=utf-8", body, now=NOW)
    (p,) = report.points
    assert report.tracker_id == "DEV"
    assert (p.lat, p.lon, p.accuracy_m, p.speed_mps, p.battery_pct, p.moving) == (
        52.5,
        13.4,
        5,
        12.5,
        42,
        True,
    )
    assert p.heading_deg == -1  # unknown: the screening stores it as unknown
    assert p.recorded_at == datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def test_the_json_form_batched_and_an_unknown_battery():
    one = b'{"timestamp": "2026-12-07T12:00:0%dZ", "coords": {"latitude": 1, "longitude": 2}, '
    one += b'"battery": {"level": -1}}'
    body = b'{"device_id": "D", "location": [' + b",".join(one % i for i in range(3)) + b"]}"
    points = decode([], "application/json", body, now=NOW).points
    assert [p.recorded_at.second for p in points] == [0, 1, 2]
    assert {p.battery_pct for p in points} == {None}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ([("lat", "1"), ("lon", "2")], "id"),
        ([("id", "A"), ("lon", "2")], "lat"),
        ([("id", "A"), ("lat", "north"), ("lon", "2")], "lat"),
        ([("id", "A"), ("location", "1;2")], "location"),
        ([("id", "A"), ("lat", "1"), ("lon", "2"), ("speed", "fast")], "speed"),
        ([("id", "A"), ("lat", "1"), ("lon", "2"), ("timestamp", "yesterday")], "timestamp"),
        ([("id", "A"), ("lat", "1"), ("lon", "2"), ("timestamp", "1e400")], "timestamp"),
    ],
)
def test_parameters_that_do_not_parse_are_named(query, field):
    with pytest.raises(BadRequest) as exc:
        decode(query, "", b"", now=NOW)
    assert exc.value.code == "validation_failed" and exc.value.extra["errors"][0]["field"] == field


def test_json_that_does_not_fit_is_named_or_malformed():
    with pytest.raises(BadRequest) as exc:
        decode(
            [],
            "application/json",
            b'{"device_id": "D", "location": {"timestamp": "x", "coords": {}}}',
            now=NOW,
        )
    assert exc.value.code == "validation_failed" and exc.value.extra["errors"][0]["field"].startswith(
        "$.location"
    )
    with pytest.raises(BadRequest) as exc:
        decode([], "application/json", b"{", now=NOW)
    assert exc.value.code == "malformed_body"


def test_numbers_that_make_no_sense_are_left_for_the_screening():
    (p,) = decode([("id", "A"), ("lat", "nan"), ("lon", "200"), ("batt", "140")], "", b"", now=NOW).points
    assert p.lat != p.lat and p.lon == 200 and p.battery_pct is None
