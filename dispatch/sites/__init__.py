"""Sites: an organization's pickup and delivery places, with geofence, hours and docks."""
