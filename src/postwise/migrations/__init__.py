"""Alembic migrations, shipped inside the package so `postwise migrate` works from any install."""
