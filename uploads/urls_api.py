from django.urls import path

from . import api

app_name = "uploads"

urlpatterns = [
    path("", api.UploadCreateApi.as_view(), name="create"),
    path("<uuid:upload_id>", api.UploadDetailApi.as_view(), name="detail"),
]
