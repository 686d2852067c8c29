"""Loads: the planner, a job's plan, its confirmed loads, their assignment and pickup codes."""
