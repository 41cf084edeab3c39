"""The embedded Celery broker: kombu's SQLAlchemy transport with a configurable polling interval.

kombu's `sqla` transport hands every transport option to `create_engine`, so its 1 s polling
interval cannot be changed through CELERY_BROKER_TRANSPORT_OPTIONS (SQLAlchemy rejects the
unknown keyword). This transport keeps `polling_interval` for kombu and gives the rest to
SQLAlchemy. URL: ``anclora-sqla+sqlite:///<path>``.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta

from kombu.transport import TRANSPORT_ALIASES
from kombu.transport import sqlalchemy as sqla
from sqlalchemy import create_engine

ALIAS = "anclora-sqla"
_NOT_FOR_THE_ENGINE = {"queue_tablename", "message_tablename", "callback", "errback", "max_retries",
                       "interval_start", "interval_step", "interval_max", "retry_errors", "polling_interval"}


class Channel(sqla.Channel):
    def _engine_from_config(self):
        conninfo = self.connection.client
        options = {k: v for k, v in conninfo.transport_options.items() if k not in _NOT_FOR_THE_ENGINE}
        return create_engine(conninfo.hostname, **options)


class Transport(sqla.Transport):
    Channel = Channel


def register() -> None:
    TRANSPORT_ALIASES.setdefault(ALIAS, "anclora.core.broker:Transport")


def purge_delivered_messages(broker_url: str, *, older_than_seconds: int = 86400) -> int:
    """Delivered messages stay in kombu_message as invisible rows: remove the old ones."""
    prefix = f"{ALIAS}+sqlite:///"
    if not broker_url.startswith(prefix):
        return 0
    path = broker_url[len(prefix):]
    # kombu stamps rows with the naive local time (datetime.now()).
    cutoff = (datetime.now() - timedelta(seconds=older_than_seconds)).isoformat(sep=" ")
    with sqlite3.connect(path, timeout=20) as db:
        try:
            cursor = db.execute("DELETE FROM kombu_message WHERE visible = 0 AND timestamp < ?", (cutoff,))
        except sqlite3.OperationalError:  # no table yet
            return 0
        return cursor.rowcount
