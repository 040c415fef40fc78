"""Federation between alliance instances: peers, pulling their change feeds, provenance."""
