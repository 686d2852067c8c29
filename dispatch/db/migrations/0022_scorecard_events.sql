-- A carrier's scorecard (dispatch/scorecards/queries.py) reads its tender, award and withdrawal
-- events by the carrier named in their data over the last 90 days. Without an index that is a scan
-- of every event the platform ever recorded, once per scorecard and lane view; this partial index
-- holds only those event types, keyed as the queries ask.
CREATE INDEX events_carrier_scorecard_idx ON events ((data ->> 'carrier_org_id'), occurred_at)
WHERE subject_type = 'job'
  AND type IN ('job.awarded', 'tender.accepted', 'tender.declined', 'tender.timed_out',
               'job.given_back', 'job.award_cancelled');
