"""`python -m bench.dashboard`: GET /api/dashboard over a 100,000-message mailbox."""
