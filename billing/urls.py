from django.urls import path

from . import views

app_name = "billing"

urlpatterns = [
    path("plans/", views.plans_page, name="plans"),
    path("plans/subscribe/", views.subscribe_page, name="subscribe"),
    path("plans/cancel/", views.cancel_page, name="cancel"),
    path("checkout/<uuid:transaction_id>/", views.checkout_page, name="checkout"),
    path("checkout/<uuid:transaction_id>/pay/", views.checkout_pay_page, name="checkout-pay"),
]
