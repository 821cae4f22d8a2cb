"""Small shared helpers that know no domain."""
