"""What search indexes: documents built from domain objects, one builder per change-log kind.

The backends, the query model and the indexer live in the top-level ``search`` package;
this package is the domain side of it, so domains can register builders without depending
on the layer above them.
"""
