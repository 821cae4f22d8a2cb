"""Authentication: registration, login, rotating refresh tokens, sessions, MFA, reset."""
