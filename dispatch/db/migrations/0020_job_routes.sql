-- A job's planned route (dispatch/tracking/README.md, "Alerts"): the polyline the poster (or its ERP)
-- expects the truck to drive, as a JSON array of [lon, lat] in WGS-84 (a GCJ-02 route is converted
-- when posted). The off-route corridor follows it; without one, the straight segment from the
-- origin to the destination.
ALTER TABLE jobs
    ADD COLUMN planned_route jsonb
        CHECK (planned_route IS NULL
               OR (jsonb_typeof(planned_route) = 'array' AND jsonb_array_length(planned_route) >= 2));
