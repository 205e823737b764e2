"""Lag rows as CSV, for the API and the pages alike."""

from __future__ import annotations

import csv
import io

from service.lag import service


def rows_csv(rows: list[service.LagRow]) -> str:
    """The rows as CSV text with a header (contract columns first)."""
    buf = io.StringIO()
    writer = csv.DictWriter(
        buf, fieldnames=service.ROW_FIELDS, extrasaction="ignore", lineterminator="\n"
    )
    writer.writeheader()
    for r in rows:
        writer.writerow(r.as_dict())
    return buf.getvalue()
