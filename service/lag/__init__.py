"""Scheduling lag: from a compound's first appearance to its first control, and statistics."""
