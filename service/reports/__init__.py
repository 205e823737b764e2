"""Periodic reports: the unscheduled-lookalike report, stored with its parameters."""
