"""Pure geometry, no I/O: coordinate types, geodesic distance, geofences, ETA math, map datums."""

from geo.coordinates import EARTH_RADIUS_M, Latitude, Longitude, Position, haversine_m, initial_bearing_deg
from geo.datum import gcj02_to_wgs84, out_of_china, wgs84_to_gcj02
from geo.geofence import (
    DEFAULT_MAX_GEOFENCE_M2,
    Area,
    GeometryError,
    centroid,
    circle,
    contains,
    contains_each,
    distance_to_m,
    geodesic_area_m2,
    parse_polygon,
    polygon_to_geojson,
    square,
)

__all__ = [
    "DEFAULT_MAX_GEOFENCE_M2",
    "EARTH_RADIUS_M",
    "Area",
    "GeometryError",
    "Latitude",
    "Longitude",
    "Position",
    "centroid",
    "circle",
    "contains",
    "contains_each",
    "distance_to_m",
    "gcj02_to_wgs84",
    "geodesic_area_m2",
    "haversine_m",
    "initial_bearing_deg",
    "out_of_china",
    "parse_polygon",
    "polygon_to_geojson",
    "square",
    "wgs84_to_gcj02",
]
