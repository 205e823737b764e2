"""Library screening: check every structure of a large file against the watchlist.

`analogwatch screen` streams the input in chunks, checks each chunk with the same code as
`analogwatch check` (:func:`service.check.batch.check_item`) on every local core or on a
Dask distributed cluster, and writes one Parquet row per input record. Each finished chunk
is a part file, so an interrupted run resumes where it stopped.
"""
