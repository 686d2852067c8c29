"""Sites SQL. `$1` is the caller's organization where a site is read or written."""

_SITE_COLUMNS = """
SELECT s.id, s.org_id, s.name, s.address, s.address_parts,
       jsonb_build_object('lat', s.lat, 'lon', s.lon) AS location, s.geofence, s.timezone,
       s.opening_hours, s.shared, s.created_at,
       coalesce((SELECT jsonb_agg(jsonb_build_object('id', d.id, 'name', d.name,
                                                     'vehicle_types', d.vehicle_types, 'active', d.active)
                                  ORDER BY d.name)
                 FROM docks d WHERE d.site_id = s.id), '[]') AS docks
FROM sites s"""

# A site the caller may see: its own, or one another organization shares.
VISIBLE_SITE = _SITE_COLUMNS + " WHERE s.id = $2 AND (s.org_id = $1 OR s.shared)"

OWN_SITE = _SITE_COLUMNS + " WHERE s.id = $2 AND s.org_id = $1"

OWN_SITES = _SITE_COLUMNS + " WHERE s.org_id = $1 ORDER BY s.name"

# Other organizations' shared sites, by name (keyset on name, id).
SHARED_SITES = (
    _SITE_COLUMNS
    + """
WHERE s.shared AND s.org_id <> $1 AND ($2::text IS NULL OR s.name ILIKE '%' || $2 || '%')
ORDER BY s.name, s.id LIMIT $3"""
)

INSERT_SITE = """
INSERT INTO sites (org_id, name, address, lon, lat, geofence, timezone, opening_hours, shared,
                   address_parts, country)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10::jsonb ->> 'country')
ON CONFLICT (org_id, name) DO NOTHING
RETURNING id"""

UPDATE_SITE = """
UPDATE sites SET name = $3, address = $4, lon = $5, lat = $6, geofence = $7, timezone = $8,
                 opening_hours = $9, shared = $10, address_parts = $11, country = $11::jsonb ->> 'country'
WHERE org_id = $1 AND id = $2"""

INSERT_DOCK = """
INSERT INTO docks (site_id, name, vehicle_types)
SELECT s.id, $3, $4 FROM sites s WHERE s.org_id = $1 AND s.id = $2
ON CONFLICT (site_id, name) DO NOTHING
RETURNING id"""
