"""Ingest of reported compounds: one appearance through the API, or a CSV/SDF file in bulk."""
