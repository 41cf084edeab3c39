from django.urls import path

from . import api

app_name = "payments"

urlpatterns = [
    path("estimate", api.EstimateApi.as_view(), name="estimate"),
    path("pricing-tiers", api.PricingTiersApi.as_view(), name="pricing-tiers"),
    path("create-payment-intent", api.CreatePaymentIntentApi.as_view(), name="create-payment-intent"),
    path("quote", api.QuoteApi.as_view(), name="quote"),
    path("webhook", api.WebhookApi.as_view(), name="webhook"),
    path("transactions", api.TransactionListApi.as_view(), name="transactions"),
    path("transactions/<uuid:transaction_id>", api.TransactionDetailApi.as_view(), name="transaction"),
    path("transactions/<uuid:transaction_id>/refund", api.TransactionRefundApi.as_view(), name="refund"),
    path("transactions/<uuid:transaction_id>/pay-test", api.TransactionPayTestApi.as_view(), name="pay-test"),
    path("plans", api.PlansApi.as_view(), name="plans"),
    path("subscribe", api.SubscribeApi.as_view(), name="subscribe"),
    path("subscription/cancel", api.SubscriptionCancelApi.as_view(), name="subscription-cancel"),
    path("entitlement", api.EntitlementApi.as_view(), name="entitlement"),
]
