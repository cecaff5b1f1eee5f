"""Alembic environment and revisions of the copilot's tables."""
