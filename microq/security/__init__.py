"""security: API keys, bans and rate limits guarding the work API."""
