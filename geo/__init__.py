"""Pure geometry, no I/O: coordinate types, geodesic distance, geofences, ETA math."""

from geo.coordinates import Latitude, Longitude, Position, haversine_m

__all__ = ["Latitude", "Longitude", "Position", "haversine_m"]
