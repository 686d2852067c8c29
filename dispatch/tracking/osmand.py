"""Reading Traccar Client's positions (the OsmAnd protocol) into the phone API's own points. Pure: no I/O.

Traccar's documentation (https://www.traccar.org/osmand/) and its server's decoder
(OsmAndProtocolDecoder) define two forms, both read here:

- **Parameters**, in the query string (any method) or, when the query has none, as a form body
  (`application/x-www-form-urlencoded`; Traccar Client 8 and older, the OsmAnd app): `id` or
  `deviceid`, `lat` and `lon` (or `location=lat,lon`), `timestamp` (unix seconds, milliseconds
  from 2^31 on, ISO 8601, or `yyyy-MM-dd HH:mm:ss` in UTC; absent: now), `speed` in **knots**,
  `bearing` or `heading` in degrees, `altitude` in metres, `accuracy` in metres (absent: `hdop`,
  which the OsmAnd app fills with its fix's accuracy in metres), `batt` in percent, `charge`.
  Anything else (`valid`, `cell`, `wifi`, `driverUniqueId`, custom attributes) is ignored.
- **JSON** (`Content-Type: application/json`; Traccar Client 9 and later, the background location
  SDK's own format): `{"device_id", "location": {"timestamp": ISO 8601, "coords": {"latitude",
  "longitude", "accuracy", "speed" (m/s), "heading", "altitude"}, "is_moving", "odometer",
  "battery": {"level" (0 to 1), "is_charging"}, "activity", "event", "extras"…}}`. A negative speed,
  heading or battery level means unknown. `location` may also be a list (the SDK's batched sync).

Values that do not parse are a 400 naming the field; values that parse but make no sense (NaN, out
of range, too old) become points that the ingest's screening rejects one by one, as for the app.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import parse_qsl

import msgspec
from msgspec import Meta

from dispatch.errors import BadRequest
from dispatch.tracking.models import MAX_POINTS, PointIn

KNOT_MPS = 1852 / 3600
# Traccar's rule: a numeric timestamp below 2^31 - 1 is in seconds, from there on in milliseconds.
_MILLISECONDS_FROM = 2**31 - 1
_ID_MAX = 100


class OsmAndReport(msgspec.Struct, frozen=True, kw_only=True):
    tracker_id: str
    points: list[PointIn]


class _Coords(msgspec.Struct, kw_only=True):
    latitude: float | None
    longitude: float | None
    accuracy: float | None = None
    speed: float | None = None
    heading: float | None = None
    altitude: float | None = None


class _Battery(msgspec.Struct, kw_only=True):
    level: float | None = None
    is_charging: bool | None = None


class _Location(msgspec.Struct, kw_only=True):
    # Unknown members (activity, event, odometer, extras, mock, uuid…) are allowed and ignored.
    timestamp: datetime
    coords: _Coords
    is_moving: bool | None = None
    battery: _Battery | None = None


class _Report(msgspec.Struct, kw_only=True):
    device_id: Annotated[str, Meta(min_length=1, max_length=_ID_MAX)]
    location: _Location | Annotated[list[_Location], Meta(min_length=1, max_length=MAX_POINTS)]


_json = msgspec.json.Decoder(_Report)
_AT = re.compile(r"^(.*?)(?: - at `([^`]*)`)?$", re.DOTALL)


def decode(
    query: Iterable[tuple[str, str]], content_type: str, body: bytes, *, now: datetime
) -> OsmAndReport:
    """The tracker id and the points of one request; `now` stands in for a missing timestamp."""
    if content_type.split(";")[0].strip().lower() == "application/json":
        return _from_json(body)
    params = dict(query)  # a repeated parameter: the last one counts, as in Traccar
    source = "query"
    if not params:
        params = dict(_form(body))
        source = "body"
    return _from_params(params, source, now)


def _form(body: bytes) -> list[tuple[str, str]]:
    return parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=False)


def _from_json(body: bytes) -> OsmAndReport:
    try:
        report = _json.decode(body)
    except msgspec.ValidationError as exc:
        # msgspec says e.g. "Expected `float | null`, got `str` - at `$.location.coords.latitude`".
        found = _AT.match(str(exc))
        assert found is not None  # the pattern matches any text
        raise _invalid(found.group(1), found.group(2) or "$", "body") from None
    except msgspec.DecodeError as exc:
        raise BadRequest(f"The request body is not valid JSON: {exc}", code="malformed_body") from None
    locations = report.location if isinstance(report.location, list) else [report.location]
    return OsmAndReport(tracker_id=report.device_id, points=[_json_point(loc) for loc in locations])


def _json_point(loc: _Location) -> PointIn:
    c, battery = loc.coords, loc.battery
    level = None if battery is None else battery.level
    return PointIn(
        lon=c.longitude,
        lat=c.latitude,
        recorded_at=_utc(loc.timestamp),
        accuracy_m=c.accuracy,
        speed_mps=c.speed,  # m/s in this form; negative (unknown) is the screening's to read
        heading_deg=c.heading,
        battery_pct=round(level * 100) if level is not None and 0 <= level <= 1 else None,
        moving=loc.is_moving,
    )


def _from_params(params: dict[str, str], source: str, now: datetime) -> OsmAndReport:
    tracker_id = params.get("id") or params.get("deviceid")
    if not tracker_id:
        raise _invalid("the device identifier is required (id or deviceid)", "id", source)
    if len(tracker_id) > _ID_MAX:
        raise _invalid(f"longer than {_ID_MAX} characters", "id", source)

    def number(*names: str) -> float | None:
        for name in names:
            raw = params.get(name)
            if raw:
                try:
                    return float(raw)
                except ValueError:
                    raise _invalid(f"not a number: {raw[:40]!r}", name, source) from None
        return None

    lat, lon = number("lat"), number("lon")
    if "location" in params and (lat is None or lon is None):
        lat_text, _, lon_text = params["location"].partition(",")
        try:
            lat, lon = float(lat_text), float(lon_text)
        except ValueError:
            raise _invalid("expected 'lat,lon'", "location", source) from None
    if lat is None or lon is None:
        raise _invalid("a position needs lat and lon (or location=lat,lon)", "lat", source)
    knots = number("speed")
    battery = number("batt")
    point = PointIn(
        lon=lon,
        lat=lat,
        recorded_at=_timestamp(params.get("timestamp"), source, now),
        accuracy_m=number("accuracy", "hdop"),
        # Knots in this form (Traccar reads it so); a negative speed stays negative: unknown.
        speed_mps=None if knots is None else knots * KNOT_MPS,
        heading_deg=number("bearing", "heading"),
        battery_pct=round(battery) if battery is not None and 0 <= battery <= 100 else None,
        moving=None,
    )
    return OsmAndReport(tracker_id=tracker_id, points=[point])


def _timestamp(raw: str | None, source: str, now: datetime) -> datetime:
    if not raw:
        return now
    text = raw.strip()
    try:
        if text.lstrip("-").replace(".", "", 1).isdigit():
            value = float(text)
            if not math.isfinite(value):
                raise ValueError
            seconds = value / 1000 if value >= _MILLISECONDS_FROM else value
            return datetime.fromtimestamp(seconds, UTC)
        return _utc(datetime.fromisoformat(text))
    except (ValueError, OverflowError, OSError):
        raise _invalid(
            f"expected unix seconds, milliseconds or an ISO 8601 time, got {text[:40]!r}", "timestamp", source
        ) from None


def _utc(at: datetime) -> datetime:
    """A time without a zone is UTC."""
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def _invalid(reason: str, field: str, source: str) -> BadRequest:
    return BadRequest(
        f"{field}: {reason}",
        code="validation_failed",
        errors=[{"field": field, "reason": reason, "source": source}],
    )
