"""One writer at a time per key, until the end of the current transaction.

On PostgreSQL a transaction-scoped advisory lock on the key's 64-bit hash; SQLite opens write
transactions IMMEDIATE, so they already run one at a time. Used where a count and the insert it
guards must be one step (caps per owner or address, a Stripe event stored once, a delivery claim).
"""

from __future__ import annotations

from django.db import connection


def serialise(key: str) -> None:
    """Call inside ``transaction.atomic()``: parallel callers with the same key wait for each other."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [key])
