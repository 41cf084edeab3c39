from django.urls import path, re_path

from . import api

app_name = "keys"

urlpatterns = [
    path("keys", api.ApiKeyListCreateApi.as_view(), name="list"),
    re_path(r"^keys/(?P<key_id>[A-Za-z0-9]{8})$", api.ApiKeyRevokeApi.as_view(), name="revoke"),
]
