"""Alembic migrations of the case store's schema, applied by `case.db.migrate`."""
