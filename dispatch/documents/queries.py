"""Documents SQL. Every read is scoped to the caller's organization ($2) being a party of the job."""

# What a waybill names: the load with its job, parties, sites, truck and driver, the job's latest
# pickup authorization (in force first) and who issued it, and the caller's language settings (its
# organization's, and its user's: $3).
WAYBILL_FACTS = """
SELECT l.id, l.job_id, l.seq, l.status, l.trip, l.bulk_kg, l.items, l.weight_kg, l.volume_m3,
       l.assignment_version, l.driver_user_id, l.carrier_org_id,
       lower(l.pickup_window) AS pickup_from, upper(l.pickup_window) AS pickup_until,
       j.reference AS job_reference, j.cargo, j.cargo_kind, j.deliver_by, j.goods_owner,
       j.poster_org_id, j.shipper_org_id, j.consignee_org_id,
       j.destination_address,
       shipper.name AS shipper_name, consignee.name AS consignee_name, carrier.name AS carrier_name,
       origin.name AS origin_name, origin.address AS origin_address, origin.timezone AS origin_timezone,
       destination.name AS destination_name, destination.address AS destination_site_address,
       v.plate_display AS plate, v.vehicle_type,
       driver.name AS driver_name, dp.phone AS driver_phone, dp.licence_number AS driver_licence,
       a.valid_from AS authorized_from, a.valid_until AS authorized_until,
       a.revoked_at AS authorization_revoked_at,
       issuer.name AS authorized_by_org, author.name AS authorized_by_person, a.id AS authorization_id,
       caller.locale AS caller_locale, (SELECT locale FROM users WHERE id = $3) AS user_locale
FROM loads l
JOIN jobs j ON j.id = l.job_id
JOIN organizations shipper ON shipper.id = j.shipper_org_id
LEFT JOIN organizations consignee ON consignee.id = j.consignee_org_id
JOIN organizations carrier ON carrier.id = l.carrier_org_id
JOIN sites origin ON origin.id = j.origin_site_id
LEFT JOIN sites destination ON destination.id = j.destination_site_id
JOIN vehicles v ON v.id = l.vehicle_id
LEFT JOIN users driver ON driver.id = l.driver_user_id
LEFT JOIN driver_profiles dp ON dp.org_id = l.carrier_org_id AND dp.user_id = l.driver_user_id
LEFT JOIN LATERAL (SELECT * FROM pickup_authorizations pa WHERE pa.job_id = l.job_id
                   ORDER BY pa.revoked_at IS NULL DESC, pa.created_at DESC LIMIT 1) a ON true
LEFT JOIN organizations issuer ON issuer.id = a.issuer_org_id
LEFT JOIN users author ON author.id = a.created_by
JOIN organizations caller ON caller.id = $2
WHERE l.id = $1 AND $2 IN (j.poster_org_id, j.shipper_org_id, j.consignee_org_id, j.carrier_org_id)"""
