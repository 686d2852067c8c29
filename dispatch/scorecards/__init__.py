"""Carrier scorecards: what the platform recorded of a carrier's work, as counted figures."""
