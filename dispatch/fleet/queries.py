"""Fleet SQL; `$1` is the carrier organization everywhere."""

_VEHICLE_COLUMNS = """
SELECT id, plate_display AS plate, vehicle_type, capacity_kg, capacity_m3, cost_per_trip_minor, active,
       created_at
FROM vehicles"""

VEHICLES = _VEHICLE_COLUMNS + " WHERE org_id = $1 ORDER BY plate"

VEHICLE = _VEHICLE_COLUMNS + " WHERE org_id = $1 AND id = $2"

# The vehicles among $2 that are the organization's (all of them when $2 is NULL), active, of type $3.
USABLE_VEHICLES = (
    _VEHICLE_COLUMNS
    + """
WHERE org_id = $1 AND active AND vehicle_type = $3 AND ($2::uuid[] IS NULL OR id = ANY($2))
ORDER BY plate"""
)

INSERT_VEHICLE = """
INSERT INTO vehicles (org_id, plate, plate_display, vehicle_type, capacity_kg, capacity_m3,
                      cost_per_trip_minor,
                      active)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (org_id, plate) DO NOTHING
RETURNING id"""

UPDATE_VEHICLE = """
UPDATE vehicles SET vehicle_type = coalesce($3, vehicle_type), capacity_kg = coalesce($4, capacity_kg),
                    capacity_m3 = coalesce($5, capacity_m3),
                    cost_per_trip_minor = coalesce($6, cost_per_trip_minor), active = coalesce($7, active)
WHERE org_id = $1 AND id = $2
RETURNING id"""

# Members who may drive, with their fleet profile when they have one.
DRIVERS = """
SELECT u.id AS user_id, u.name, u.email, d.phone, d.licence_number
FROM memberships m
JOIN users u ON u.id = m.user_id
LEFT JOIN driver_profiles d ON d.org_id = m.org_id AND d.user_id = m.user_id
WHERE m.org_id = $1 AND ($2::uuid IS NULL OR m.user_id = $2)
  AND EXISTS (SELECT 1 FROM membership_roles mr JOIN role_permissions rp ON rp.role_id = mr.role_id
              WHERE mr.org_id = m.org_id AND mr.user_id = m.user_id AND rp.permission = 'drive')
ORDER BY u.name, u.id"""

UPSERT_PROFILE = """
INSERT INTO driver_profiles (org_id, user_id, phone, licence_number) VALUES ($1, $2, $3, $4)
ON CONFLICT (org_id, user_id) DO UPDATE
SET phone = EXCLUDED.phone, licence_number = EXCLUDED.licence_number"""
