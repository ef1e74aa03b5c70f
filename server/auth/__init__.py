"""Authentication: passwords, sessions and tokens, CSRF, rate limits and role guards."""
