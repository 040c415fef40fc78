"""A TAXII 2.1 server at ``/taxii2/``: one collection per working group the caller sits in,
and one for what is shared alliance-wide; objects read through the sharing policy, objects
written through the indicators service."""
