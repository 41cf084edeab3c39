"""With Stripe keys configured the checkout page mounts Stripe's Payment Element (real SDK, localstripe)."""

import pytest

from anclora.core.middleware import ContentSecurityPolicyMiddleware

pytestmark = pytest.mark.django_db  # localstripe is another process, but never reads our database

REQUEST = {"conversion_request": {"source_format": "pdf", "target_format": "docx", "file_size_mb": 15,
                                  "quality": "high"}}


def test_checkout_mounts_payment_element_with_the_intent_secret(client, localstripe, settings):
    settings.STRIPE_PUBLISHABLE_KEY = "pk_test_" + "anclora" * 4
    client.get("/")  # an anonymous session for this browser
    created = client.post("/api/payments/create-payment-intent", REQUEST, content_type="application/json")
    assert created.status_code == 201, created.content
    body = created.json()
    page = client.get(f"/checkout/{body['transaction_id']}/")
    html = page.content.decode()
    assert page.status_code == 200
    assert f'data-client-secret="{body["client_secret"]}"' in html
    assert f'data-publishable-key="{settings.STRIPE_PUBLISHABLE_KEY}"' in html
    assert 'src="https://js.stripe.com/v3/"' in html and "js/checkout.js" in html
    assert "https://js.stripe.com" in page["Content-Security-Policy"]


def test_no_stripe_js_without_a_publishable_key(client, localstripe, settings):
    settings.STRIPE_PUBLISHABLE_KEY = ""
    client.get("/")
    body = client.post("/api/payments/create-payment-intent", REQUEST, content_type="application/json").json()
    html = client.get(f"/checkout/{body['transaction_id']}/").content.decode()
    assert "js.stripe.com" not in html and "payment-element" not in html
    assert 'id="pay-test-card"' in html  # localstripe is test mode


def test_csp_with_stripe_keeps_self_and_adds_stripe_hosts():
    policy = ContentSecurityPolicyMiddleware.with_stripe("default-src 'self'; script-src 'self'; object-src 'none'")
    assert "script-src 'self' https://js.stripe.com" in policy
    assert "frame-src 'self' https://js.stripe.com https://hooks.stripe.com" in policy
    assert "object-src 'none'" in policy
