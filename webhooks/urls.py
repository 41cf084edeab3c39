from django.urls import path

from . import views

app_name = "webhooks"

urlpatterns = [
    path("account/webhooks/endpoints/", views.endpoint_create_view, name="endpoint_create"),
    path("account/webhooks/endpoints/<uuid:endpoint_id>/delete/", views.endpoint_delete_view,
         name="endpoint_delete"),
    path("account/webhooks/secret/rotate/", views.secret_rotate_view, name="secret_rotate"),
    path("account/webhooks/deliveries/<uuid:delivery_id>/redeliver/", views.delivery_redeliver_view,
         name="delivery_redeliver"),
]
