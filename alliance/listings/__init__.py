"""Listing check: the matcher partners call on their listings."""
