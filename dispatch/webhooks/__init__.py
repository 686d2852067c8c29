"""Webhooks: organizations' endpoints, and the deliveries of their events, signed as Standard
Webhooks says, at least once, in order per subject (README.md)."""
