from django.urls import path

from . import views

app_name = "apikeys"

urlpatterns = [
    path("account/api-keys/", views.api_keys_view, name="list"),
]
