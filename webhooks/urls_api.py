from django.urls import path

from . import api

app_name = "webhooks"

urlpatterns = [
    path("endpoints", api.EndpointListApi.as_view(), name="endpoints"),
    path("endpoints/<uuid:endpoint_id>", api.EndpointDetailApi.as_view(), name="endpoint"),
    path("deliveries", api.DeliveryListApi.as_view(), name="deliveries"),
    path("deliveries/<uuid:delivery_id>/redeliver", api.DeliveryRedeliverApi.as_view(), name="redeliver"),
    path("secret", api.SecretApi.as_view(), name="secret"),
    path("secret/rotate", api.SecretRotateApi.as_view(), name="secret-rotate"),
]
