"""GraphQL for webhook subscriptions and their delivery log."""
