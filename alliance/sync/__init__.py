"""Partner sync: the NDJSON change feed (``feed``, ``http``) and portable snapshots (``portable``)."""
