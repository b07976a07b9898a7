"""Persistence on SQLAlchemy 2 Core: SQLite by default, PostgreSQL (psycopg 3) in production."""
