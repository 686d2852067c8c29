import math

import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from geo import (
    DEFAULT_MAX_GEOFENCE_M2,
    EARTH_RADIUS_M,
    Area,
    GeometryError,
    Position,
    centroid,
    circle,
    contains,
    contains_each,
    distance_to_m,
    geodesic_area_m2,
    haversine_m,
    parse_polygon,
    polygon_to_geojson,
)

R = EARTH_RADIUS_M
SQUARE = [[10.0, 50.0], [10.01, 50.0], [10.01, 50.01], [10.0, 50.01], [10.0, 50.0]]


def rect(lon0: float, lat0: float, dlon: float, dlat: float) -> list[list[float]]:
    return [[lon0, lat0], [lon0 + dlon, lat0], [lon0 + dlon, lat0 + dlat], [lon0, lat0 + dlat], [lon0, lat0]]


def polygon_json(*rings: object) -> dict[str, object]:
    return {"type": "Polygon", "coordinates": list(rings)}


def metres_to_lat_deg(m: float) -> float:
    return math.degrees(m / R)


def metres_to_lon_deg(m: float, lat: float) -> float:
    return math.degrees(m / (R * math.cos(math.radians(lat))))


def brute_force_distance_m(polygon: shapely.Polygon, point: Position, step_deg: float = 1e-5) -> float:
    """Reference: 0 when covered, else the nearest sample (by haversine) of the boundary densified to
    step_deg (1e-5° is at most 1.1 m, so the sample overshoots the true minimum by under 0.6 m)."""
    if polygon.intersects(shapely.Point(point)):
        return 0.0
    dense = shapely.segmentize(polygon.boundary, step_deg)
    return min(haversine_m(point, Position(x, y)) for x, y in shapely.get_coordinates(dense))


# --- parse_polygon: every rejection, with its message -----------------------------------------------

# A 0.1° square ring that is fine on its own, to build holes and bad rings against.
BIG = rect(10.0, 50.0, 0.1, 0.1)


@pytest.mark.parametrize(
    ("geojson", "message"),
    [
        ([[0, 0]], "must be a GeoJSON object, not list"),
        ("Polygon", "must be a GeoJSON object, not str"),
        ({"type": "Point", "coordinates": [10, 50]}, "type must be 'Polygon', not 'Point'"),
        ({"coordinates": [SQUARE]}, "type must be 'Polygon', not None"),
        ({"type": "Polygon"}, "coordinates must be a non-empty list of rings"),
        ({"type": "Polygon", "coordinates": []}, "coordinates must be a non-empty list of rings"),
        ({"type": "Polygon", "coordinates": "x"}, "coordinates must be a non-empty list of rings"),
        (polygon_json([[10, 50], [11, 50]], 5), "a list of rings, each a list of [lon, lat] positions"),
        (polygon_json([[10, 50], 7, [11, 51], [10, 50]]), "the outer ring, position 2: a position must be"),
        (polygon_json([[10], [11, 50], [11, 51], [10]]), "position 1: a position must be [lon, lat]"),
        (polygon_json([[10, 50, 0, 0], [11, 50], [11, 51], [10, 50]]), "a position must be [lon, lat]"),
        (polygon_json([[10, "50"], [11, 50], [11, 51], [10, 50]]), "coordinates must be numbers"),
        (polygon_json([[10, True], [11, 50], [11, 51], [10, True]]), "coordinates must be numbers"),
        (
            polygon_json([[10, 50], [math.nan, 50], [11, 51], [10, 50]]),
            "position 2: coordinates must be finite",
        ),
        (polygon_json([[10, 50], [11, math.inf], [11, 51], [10, 50]]), "must be finite numbers"),
        (polygon_json([[10, 50], [11, 50], [11, 51, math.nan], [10, 50]]), "must be finite numbers"),
        (polygon_json([[10, 50], [180.5, 50], [11, 51], [10, 50]]), "longitude 180.5 is outside [-180, 180]"),
        (polygon_json([[10, 50], [11, -91], [11, 51], [10, 50]]), "latitude -91 is outside [-90, 90]"),
        (
            polygon_json([[10, 50], [11, 50], [10, 50]]),
            "the outer ring has 3 positions; a ring needs at least 4",
        ),
        (polygon_json(SQUARE[:-1]), "the outer ring is not closed"),
        (polygon_json(BIG, [[10.02, 50.02], [10.03, 50.02], [10.02, 50.03]]), "hole 1 has 3 positions"),
        (polygon_json(BIG, rect(10.02, 50.02, 0.01, 0.01)[:-1]), "hole 1 is not closed"),
        (polygon_json([[10, 50], [10.01, 50.01], [10.01, 50], [10, 50.01], [10, 50]]), "edges cross"),
        (polygon_json(BIG, rect(10.5, 50.5, 0.01, 0.01)), "a hole lies outside the outer ring"),
        (
            polygon_json(BIG, rect(10.01, 50.01, 0.08, 0.08), rect(10.02, 50.02, 0.01, 0.01)),
            "a hole lies inside another hole",
        ),
        (
            polygon_json(
                [[10, 50], [10.02, 50], [10.01, 50.01], [10.02, 50.02], [10, 50.02], [10.01, 50.01], [10, 50]]
            ),
            "a ring touches itself, near lon 10.01, lat 50.01",
        ),
        (
            polygon_json([[10, 50], [10.01, 50], [10.02, 50], [10, 50]]),
            "zero area: its positions all lie on one line",
        ),
        (polygon_json([[10, 50], [10, 50], [10, 50], [10, 50]]), "zero area"),
        (polygon_json(rect(-100, 10, 200, 0.001)), "spans 200.0° of longitude"),
        (
            polygon_json([[179.99, 0], [-179.99, 0], [-179.99, 0.01], [179.99, 0.01], [179.99, 0]]),
            "antimeridian",
        ),
        (polygon_json(rect(10, 50, 0.1, 0.1)), "area is 79.4 km², above the limit of 50 km²"),
    ],
)
def test_parse_polygon_rejects(geojson: object, message: str) -> None:
    with pytest.raises(GeometryError) as caught:
        parse_polygon(geojson)
    assert message in str(caught.value)


def test_parse_polygon_position_limit() -> None:
    ring = [
        [10 + 0.01 * math.cos(t / 1001 * 2 * math.pi), 50 + 0.01 * math.sin(t / 1001 * 2 * math.pi)]
        for t in range(1001)
    ]
    ring.append(ring[0])
    with pytest.raises(GeometryError, match="has 1002 positions; at most 1000 are allowed"):
        parse_polygon(polygon_json(ring))
    assert len(parse_polygon(polygon_json([*ring[:998], ring[0]])).exterior.coords) == 999


def test_parse_polygon_area_limit_is_configurable() -> None:
    one_km = rect(10, 0, metres_to_lon_deg(1000, 0), metres_to_lat_deg(1000))
    assert parse_polygon(polygon_json(one_km), max_area_m2=1.01e6).area > 0
    with pytest.raises(GeometryError, match=r"area is 1 km², above the limit of 0.99 km²"):
        parse_polygon(polygon_json(one_km), max_area_m2=0.99e6)
    with pytest.raises(ValueError, match="max_area_m2 must be positive"):
        parse_polygon(polygon_json(one_km), max_area_m2=0)


def test_error_is_a_value_error() -> None:
    assert issubclass(GeometryError, ValueError)
    assert DEFAULT_MAX_GEOFENCE_M2 == 50_000_000.0


def test_square_round_trips() -> None:
    geojson = polygon_json(SQUARE)
    polygon = parse_polygon(geojson)
    assert isinstance(polygon, shapely.Polygon)
    assert polygon.exterior.coords[0] == (10.0, 50.0)  # (lon, lat)
    assert polygon_to_geojson(polygon) == geojson
    assert parse_polygon(polygon_to_geojson(polygon)).equals_exact(polygon, 0)


def test_holes_round_trip_as_lists_and_altitude_is_dropped() -> None:
    hole = rect(10.02, 50.02, 0.01, 0.01)
    with_altitude = [[lon, lat, 123.0] for lon, lat in BIG]
    polygon = parse_polygon(polygon_json(with_altitude, hole), max_area_m2=1e9)
    out = polygon_to_geojson(polygon)
    assert out == polygon_json(BIG, hole)
    coordinates = out["coordinates"]
    assert isinstance(coordinates, list) and all(type(p) is list for ring in coordinates for p in ring)


def test_parse_polygon_accepts_clockwise_and_integers() -> None:
    clockwise = [[0, 0], [0, 0.01], [0.01, 0.01], [0.01, 0], [0, 0]]
    polygon = parse_polygon(polygon_json(clockwise))
    assert polygon_to_geojson(polygon) == polygon_json(clockwise)


# --- geodesic_area_m2 ------------------------------------------------------------------------------


@pytest.mark.parametrize("lat", [0.0, 60.0])
def test_area_of_one_km_square(lat: float) -> None:
    # 1 km of meridian and 1 km of the centre parallel: 1 km² (the parallel's length varies linearly
    # with latitude across the square, so the centre width is the mean width to ~1e-8).
    dlat = metres_to_lat_deg(1000)
    square = shapely.Polygon(rect(10, lat - dlat / 2, metres_to_lon_deg(1000, lat), dlat))
    assert geodesic_area_m2(square) == pytest.approx(1e6, rel=1e-6)


@pytest.mark.parametrize("lat", [-89.0, -45.5, 0.0, 30.0, 59.0, 80.0])
def test_area_of_one_degree_cell(lat: float) -> None:
    expected = R**2 * math.radians(1) * (math.sin(math.radians(lat + 1)) - math.sin(math.radians(lat)))
    assert geodesic_area_m2(shapely.Polygon(rect(20, lat, 1, 1))) == pytest.approx(expected, rel=1e-9)


def test_area_subtracts_holes_and_ignores_orientation() -> None:
    outer, hole = rect(10, 50, 0.1, 0.1), rect(10.02, 50.02, 0.05, 0.05)
    whole = geodesic_area_m2(shapely.Polygon(outer))
    assert geodesic_area_m2(shapely.Polygon(outer[::-1])) == pytest.approx(whole, rel=1e-12)
    holed = geodesic_area_m2(shapely.Polygon(outer, [hole]))
    assert holed == pytest.approx(whole - geodesic_area_m2(shapely.Polygon(hole)), rel=1e-12)


def test_area_of_triangle_is_half_the_cell_at_the_equator() -> None:
    # At the equator the triangle's diagonal edge integrates to exactly half of the cell.
    cell = geodesic_area_m2(shapely.Polygon(rect(0, -0.5, 1, 1)))
    triangle = geodesic_area_m2(shapely.Polygon([(0, -0.5), (1, -0.5), (1, 0.5), (0, -0.5)]))
    assert triangle == pytest.approx(cell / 2, rel=1e-4)


# --- distance_to_m and contains -------------------------------------------------------------------

FENCE = shapely.Polygon(rect(10, 60, 0.1, 0.05))  # ~5.6 km x 5.6 km at 60°N


@pytest.mark.parametrize("d", [100.0, 5000.0])
def test_distance_east_of_meridian_edge(d: float) -> None:
    lat = 60.025
    dlon = metres_to_lon_deg(d, lat)
    # Exact: the distance to the meridian great circle is R·asin(sin Δλ · cos φ).
    expected = R * math.asin(math.sin(math.radians(dlon)) * math.cos(math.radians(lat)))
    assert distance_to_m(FENCE, Position(10.1 + dlon, lat)) == pytest.approx(expected, rel=5e-3)
    assert distance_to_m(FENCE, Position(10.1 + dlon, lat)) == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("d", [100.0, 5000.0])
def test_distance_north_of_parallel_edge(d: float) -> None:
    assert distance_to_m(FENCE, Position(10.05, 60.05 + metres_to_lat_deg(d))) == pytest.approx(d, rel=1e-9)


@pytest.mark.parametrize("d", [100.0, 5000.0, 50_000.0])
def test_distance_matches_brute_force(d: float) -> None:
    corner = Position(10.1 + metres_to_lon_deg(d, 60.1), 60.05 + metres_to_lat_deg(d))
    assert distance_to_m(FENCE, corner) == pytest.approx(
        haversine_m(corner, Position(10.1, 60.05)), rel=1e-12
    )
    slanted = shapely.Polygon([(10, 60), (10.3, 60.1), (10.1, 60.3), (10, 60)])
    point = Position(10.3, 60.3 + metres_to_lat_deg(d))
    assert distance_to_m(slanted, point) == pytest.approx(brute_force_distance_m(slanted, point), rel=1e-4)


def test_distance_inside_and_on_boundary_is_zero() -> None:
    assert distance_to_m(FENCE, Position(10.05, 60.02)) == 0.0
    assert distance_to_m(FENCE, Position(10.1, 60.02)) == 0.0
    assert distance_to_m(FENCE, Position(10, 60)) == 0.0
    holed = shapely.Polygon(rect(10, 60, 0.1, 0.1), [rect(10.04, 60.04, 0.02, 0.02)])
    # From the hole's centre the nearest edges are its meridian sides, 0.01° of longitude away.
    expected = R * math.asin(math.sin(math.radians(0.01)) * math.cos(math.radians(60.05)))
    assert distance_to_m(holed, Position(10.05, 60.05)) == pytest.approx(expected, rel=1e-6)


def test_distance_from_a_pole() -> None:
    point = Position(45.0, 90.0)
    assert distance_to_m(FENCE, point) == pytest.approx(R * math.radians(30 - 0.05), rel=1e-9)


def test_contains_with_and_without_accuracy() -> None:
    inside, on_edge = Position(10.05, 60.02), Position(10.1, 60.02)
    outside = Position(10.1 + metres_to_lon_deg(30, 60.02), 60.02)  # 30 m east of the fence
    assert contains(FENCE, inside) and contains(FENCE, on_edge)
    assert not contains(FENCE, outside)
    assert not contains(FENCE, outside, accuracy_m=25)
    assert contains(FENCE, outside, accuracy_m=35)
    assert contains(FENCE, inside, accuracy_m=5)
    with pytest.raises(ValueError, match="accuracy_m"):
        contains(FENCE, inside, accuracy_m=-1)
    with pytest.raises(ValueError, match="accuracy_m"):
        contains(FENCE, inside, accuracy_m=math.nan)


positions_near_fence = st.builds(
    Position,
    st.floats(9.9, 10.2, allow_nan=False),
    st.floats(59.95, 60.1, allow_nan=False),
)
L_SHAPE = shapely.Polygon(
    [(10, 60), (10.1, 60), (10.1, 60.02), (10.03, 60.02), (10.03, 60.05), (10, 60.05), (10, 60)],
    [rect(10.01, 60.01, 0.01, 0.01)],
)


@settings(max_examples=300)
@given(positions_near_fence)
def test_distance_is_zero_exactly_when_covered(point: Position) -> None:
    d = distance_to_m(L_SHAPE, point)
    if L_SHAPE.intersects(shapely.Point(point)):
        assert d == 0.0
    else:
        assert d > 0.0


@settings(max_examples=300)
@given(positions_near_fence)
def test_contains_within_accuracy_agrees_with_distance(point: Position) -> None:
    d = distance_to_m(L_SHAPE, point)
    assert contains(L_SHAPE, point, accuracy_m=d * (1 + 1e-12) + 1e-9)
    assert contains(L_SHAPE, point, accuracy_m=d + 1.0)
    if d > 1e-6:
        assert not contains(L_SHAPE, point, accuracy_m=d * 0.999)


@settings(max_examples=40, deadline=None)
@given(positions_near_fence)
def test_distance_agrees_with_brute_force(point: Position) -> None:
    fence = shapely.Polygon(rect(10, 60, 0.1, 0.05))
    d = distance_to_m(fence, point)
    # 3e-5° samples: the reference overshoots by at most 1.7 m.
    assert d == pytest.approx(brute_force_distance_m(fence, point, 3e-5), rel=1e-3, abs=1.7)


# --- circle, centroid, Area ------------------------------------------------------------------------


@pytest.mark.parametrize(("lat", "radius_m"), [(0.0, 500.0), (50.0, 10_000.0), (70.0, 100_000.0)])
def test_circle(lat: float, radius_m: float) -> None:
    center = Position(10.0, lat)
    polygon = circle(center, radius_m)
    assert polygon.is_valid and polygon.exterior.is_ccw
    assert len(polygon.exterior.coords) == 65
    for x, y in polygon.exterior.coords:
        assert haversine_m(center, Position(x, y)) == pytest.approx(radius_m, rel=1e-9)
    assert geodesic_area_m2(polygon) == pytest.approx(math.pi * radius_m**2, rel=0.01)
    assert centroid(polygon).lat == pytest.approx(lat, abs=radius_m / 111_000 * 0.02)


def test_circle_rejects_bad_input() -> None:
    with pytest.raises(GeometryError, match="reaches a pole"):
        circle(Position(0, 89.9), 20_000)
    with pytest.raises(ValueError, match="radius_m"):
        circle(Position(0, 0), 0)
    with pytest.raises(ValueError, match="segments"):
        circle(Position(0, 0), 10, segments=2)


def test_centroid() -> None:
    assert centroid(shapely.Polygon(SQUARE)) == pytest.approx(Position(10.005, 50.005))
    assert isinstance(centroid(shapely.Polygon(SQUARE)), Position)


@given(st.builds(Position, st.floats(9.8, 10.2), st.floats(49.8, 50.2)))
def test_area_around_is_haversine(point: Position) -> None:
    center, radius = Position(10.0, 50.0), 15_000.0
    area = Area.around(center, radius)
    assert area.contains(point) == (haversine_m(center, point) <= radius)
    # The drawn circle agrees except in the sliver between its chords and the true circle (0.12% of r).
    d = haversine_m(center, point)
    if abs(d - radius) > 0.002 * radius:
        assert contains(circle(center, radius), point) == area.contains(point)


def test_area_of_polygon() -> None:
    area = Area.of_polygon(parse_polygon(polygon_json(SQUARE)))
    assert area.contains(Position(10.005, 50.005))
    assert area.contains(Position(10.0, 50.005))  # on the boundary
    assert not area.contains(Position(10.02, 50.005))
    with pytest.raises(AttributeError):
        area.radius_m = 5.0  # type: ignore[misc]


def test_area_rejects_bad_input() -> None:
    with pytest.raises(GeometryError):
        Area.of_polygon(shapely.Polygon())
    with pytest.raises(GeometryError):
        Area.of_polygon(shapely.Point(0, 0))
    with pytest.raises(ValueError, match="radius_m"):
        Area.around(Position(0, 0), -1)
    with pytest.raises(ValueError, match="circle or a polygon"):
        Area()


@settings(max_examples=200)
@given(
    st.lists(
        st.tuples(positions_near_fence, st.one_of(st.just(0.0), st.floats(0.0, 3000.0, allow_nan=False))),
        max_size=30,
    )
)
def test_contains_each_agrees_with_contains(fixes: list[tuple[Position, float]]) -> None:
    points = [p for p, _ in fixes]
    accuracies = [a for _, a in fixes]
    expected = [contains(L_SHAPE, p, accuracy_m=a) for p, a in fixes]
    assert contains_each(L_SHAPE, points, accuracies) == expected
    assert contains_each(L_SHAPE, points) == [contains(L_SHAPE, p) for p in points]


positions_around_fence = st.builds(
    Position,
    st.floats(9.5, 10.6, allow_nan=False),
    st.floats(59.7, 60.3, allow_nan=False),
)


@settings(max_examples=300)
@given(
    st.lists(
        st.tuples(
            st.one_of(positions_near_fence, positions_around_fence),
            st.one_of(st.just(0.0), st.floats(0.0, 30_000.0, allow_nan=False)),
        ),
        min_size=1,
        max_size=32,
    )
)
def test_a_few_fixes_are_judged_as_in_a_long_batch(fixes: list[tuple[Position, float]]) -> None:
    """A phone's few fixes skip numpy when all are far from the fence: the same answers as the
    vectorized pass gives them within a batch too long for that shortcut."""
    points = [p for p, _ in fixes]
    accuracies = [a for _, a in fixes]
    padding = 40  # past the batch size answered without numpy
    long = contains_each(L_SHAPE, points + [points[0]] * padding, accuracies + [accuracies[0]] * padding)
    assert contains_each(L_SHAPE, points, accuracies) == long[: len(points)]
    far_away = [Position(p.lon + 3, p.lat) for p in points]  # the shortcut's own case
    assert contains_each(L_SHAPE, far_away, accuracies) == [False] * len(points)


def test_contains_each_refuses_a_bad_accuracy() -> None:
    with pytest.raises(ValueError, match="accuracies_m"):
        contains_each(FENCE, [Position(10.05, 60.02)], [math.nan])
