"""Search: the backend protocol, Tantivy (embedded) and Elasticsearch (production)."""
