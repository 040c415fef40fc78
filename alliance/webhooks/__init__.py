"""Webhooks: signed, ordered deliveries of the change feed to URLs organisations subscribe."""
