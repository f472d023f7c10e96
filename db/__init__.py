"""Storage: SQLAlchemy models, the session factory, migrations and bulk writers.

`db` imports nothing else of Tradeblock's.
"""
