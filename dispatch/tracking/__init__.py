"""Tracking: GPS from the driver's phone to the job's parties, live, until receipt (rules in
README.md here)."""
