"""Other sources of a conversion request are registered by the app that owns them (conversions/sources.py)."""

import pytest

from conversions import sources


def test_uploads_registers_its_sources():
    assert {"upload_id", "source_url"} <= set(sources._services)


def test_a_source_gets_its_value_under_its_field_name(monkeypatch):
    seen = {}
    monkeypatch.setitem(sources._services, "probe_id", lambda **kwargs: seen.update(kwargs) or ["done"])
    assert sources.source_request("probe_id", "abc", owner="o", target_format="pdf") == ["done"]
    assert seen == {"probe_id": "abc", "owner": "o", "target_format": "pdf"}


def test_an_unregistered_source_is_a_deployment_error():
    with pytest.raises(RuntimeError, match="nowhere_id"):
        sources.source_request("nowhere_id", "x")
