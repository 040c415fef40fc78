"""Uploaded photos and attachments: validated, stripped of metadata, hashed, stored by content."""
