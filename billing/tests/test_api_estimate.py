import pytest

pytestmark = pytest.mark.django_db

SEED = {"source_format": "jpg", "target_format": "png", "file_size_mb": 5, "quality": "standard",
        "features": ["batch_processing"]}


def test_estimate_seed_shape(api_client):
    response = api_client.post("/api/payments/estimate", SEED, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body == {
        "estimated_price": 0.07, "currency": "EUR",
        "breakdown": {"base_price": 0.05, "conversion_type": "image_to_image", "size_category": "small",
                      "size_multiplier": 1.0, "quality": "standard", "quality_multiplier": 1.3,
                      "feature_cost": 0.0, "server_load": "low", "server_load_factor": 1.0, "total_price": 0.07},
    }


def test_estimate_second_seed_example(api_client):
    body = api_client.post("/api/payments/estimate", {"source_format": "pdf", "target_format": "docx",
                                                      "file_size_mb": 15, "quality": "high"}, format="json").json()
    assert body["estimated_price"] == 0.27
    assert body["breakdown"]["size_category"] == "medium"


def test_load_factor_follows_the_real_queue(api_client, settings, monkeypatch):
    from billing import selectors

    monkeypatch.setattr(selectors, "server_load", lambda **kwargs: "medium")
    body = api_client.post("/api/payments/estimate", {"source_format": "pdf", "target_format": "docx",
                                                      "file_size_mb": 15, "quality": "high"}, format="json").json()
    assert body["estimated_price"] == 0.30
    assert body["breakdown"]["server_load_factor"] == 1.1


def test_server_load_label_matches_queue_status(api_client, settings):
    from billing import selectors

    queue = api_client.get("/api/conversion/queue/status").json()["queue_status"]
    assert selectors.server_load() == queue["server_load"] == "low"


@pytest.mark.parametrize(("change", "field"), [
    ({"source_format": "xyz"}, "source_format"),
    ({"target_format": "exe"}, "target_format"),
    ({"source_format": "mp3", "target_format": "docx"}, "target_format"),
    ({"target_format": "jpg"}, "target_format"),
    ({"file_size_mb": -1}, "file_size_mb"),
    ({"file_size_mb": 0}, "file_size_mb"),
    ({"file_size_mb": 10 ** 9}, "file_size_mb"),
    ({"file_size_mb": "abc"}, "file_size_mb"),
    ({"file_size_mb": True}, "file_size_mb"),
    ({"file_size_mb": "NaN"}, "file_size_mb"),
    ({"quality": "ultra"}, "quality"),
    ({"quality": ["high"]}, "quality"),
    ({"features": ["teleport"]}, "features"),
    ({"features": "batch_processing"}, "features"),
    ({"source_format": 7}, "source_format"),
])
def test_estimate_bad_input_names_the_field(api_client, change, field):
    response = api_client.post("/api/payments/estimate", {**SEED, **change}, format="json")
    assert response.status_code == 400, response.content
    body = response.json()
    assert field in body["details"], body
    assert body["code"] and body["error"]


def test_estimate_missing_field(api_client):
    response = api_client.post("/api/payments/estimate", {"source_format": "jpg"}, format="json")
    assert response.status_code == 400
    assert "target_format" in response.json()["details"]


def test_pricing_tiers(api_client):
    body = api_client.get("/api/payments/pricing-tiers").json()["pricing_tiers"]
    assert body["base_prices"] == {"image_to_image": 0.05, "document_to_document": 0.10, "audio_to_audio": 0.15,
                                   "video_to_video": 0.25, "complex": 0.40}
    assert body["size_tiers"]["small"] == {"max_size_mb": 10, "price_multiplier": 1.0}
    assert body["size_tiers"]["xlarge"] == {"max_size_mb": 500, "price_multiplier": 3.0}
    assert body["size_tiers"]["xxl"] == {"max_size_mb": None, "price_multiplier": 4.0}
    assert body["quality_options"] == {"basic": 1.0, "standard": 1.3, "high": 1.8, "premium": 2.5}
    assert body["feature_costs"] == {"batch_processing": 0.0, "priority": 0.1}
    assert body["server_load_factors"] == {"low": 1.0, "medium": 1.1, "high": 1.25}
    assert body["currency"] == "EUR"
