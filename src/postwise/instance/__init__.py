"""Instance-wide settings that an admin changes at run time (kept in the database, not env)."""
