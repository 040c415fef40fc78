"""GraphQL for uploaded photos and attachments."""
