"""Storage: SQLAlchemy Core tables, the engine, migrations and one query module per concern.

Query functions take an open ``AsyncConnection`` and never commit: the action that calls them owns
the transaction.
"""
