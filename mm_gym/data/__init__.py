"""Recorded markets: readers of LOBSTER and tardis-style CSV into one event schema on Parquet
(the bottom layer beside ``strategy``: pyarrow, pandas and numpy only).

- ``schema``: the event columns, their units and kinds, and the file's metadata.
- ``lobster``, ``tardis``: the readers, streaming their sources in chunks; a bad row is one
  ``DataError`` naming the file, the line and what was expected.
- ``store``: event chunks into a Parquet file and back out in batches.
- ``convert``: a source (format detected) into a recording: ``mm-gym data convert``.
- ``book``: a price-level book rebuilt from events (what a recording shows).
"""
