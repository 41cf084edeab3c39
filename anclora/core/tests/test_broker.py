from kombu import Connection

from anclora.core.broker import purge_delivered_messages


def test_embedded_broker_round_trip_and_purge(tmp_path):
    url = f"anclora-sqla+sqlite:///{tmp_path / 'broker.sqlite3'}"
    with Connection(url, transport_options={"polling_interval": 0.05}) as conn:
        queue = conn.SimpleQueue("jobs")
        queue.put({"job": 1})
        message = queue.get(timeout=5)
        assert message.payload == {"job": 1}
        message.ack()
        assert conn.transport.polling_interval == 0.05
        queue.close()
    assert purge_delivered_messages(url, older_than_seconds=-60) == 1
    assert purge_delivered_messages(url, older_than_seconds=-60) == 0
    assert purge_delivered_messages("redis://127.0.0.1:6379/0") == 0
