"""Deleting an account stops its paid subscription at the provider (the card is never charged again)."""

import pytest
import stripe

from accounts.models import User
from billing.models import BillingCustomer, StripeSubscription
from billing.providers import ProviderError, get_provider

from .conftest import event_payload, post_webhook

pytestmark = pytest.mark.django_db


def _subscribed(api_client, make_user):
    user = make_user()
    api_client.force_authenticate(user)
    response = api_client.post("/api/payments/subscribe", {"plan": "basico"}, format="json")
    assert response.status_code == 201, response.content
    return user, response.json()["stripe_subscription_id"]


def test_offline_subscription_is_cancelled_with_the_account(api_client, make_user, offline):
    user, subscription_id = _subscribed(api_client, make_user)
    assert api_client.delete("/api/users/me").status_code == 204
    assert not User.objects.filter(pk=user.pk).exists()
    assert get_provider().retrieve_subscription(subscription_id)["status"] == "canceled"


def test_stripe_subscription_and_customer_are_gone_with_the_account(api_client, make_user, localstripe):
    from djstripe.models import Event

    user, subscription_id = _subscribed(api_client, make_user)
    customer_id = BillingCustomer.objects.get(user=user).stripe_customer_id
    provider = get_provider()
    customer = provider.client.v1.customers.retrieve(customer_id).to_dict()
    assert post_webhook(api_client, event_payload("customer.created", customer)).status_code == 200
    assert Event.objects.filter(type="customer.created").exists()

    assert api_client.delete("/api/users/me").status_code == 204
    try:
        assert provider.retrieve_subscription(subscription_id)["status"] == "canceled"
    except ProviderError as gone:
        assert gone.code == "not_found"
    with pytest.raises(stripe.InvalidRequestError):  # the customer (and its card) is deleted there
        provider.client.v1.customers.retrieve(customer_id)
    assert not Event.objects.filter(type="customer.created").exists()  # it held the e-mail


def test_unreachable_provider_keeps_the_account_and_says_so(api_client, make_user, localstripe, settings):
    import socket

    user, _subscription_id = _subscribed(api_client, make_user)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    settings.STRIPE_API_BASE = f"http://127.0.0.1:{closed}"
    response = api_client.delete("/api/users/me")
    assert response.status_code == 503 and response.json()["code"] == "payment_provider_error"
    assert User.objects.filter(pk=user.pk).exists()
    assert StripeSubscription.objects.filter(user=user, status="active").exists()
