from django.urls import path

from . import api

app_name = "uploads"

urlpatterns = [
    path("", api.UploadCreateApi.as_view(), name="create"),
    path("<uuid:upload_id>", api.UploadDetailApi.as_view(), name="detail"),
    path("s3", api.S3UploadCreateApi.as_view(), name="s3-create"),
    path("<uuid:upload_id>/parts", api.S3UploadPartsApi.as_view(), name="s3-parts"),
    path("<uuid:upload_id>/complete", api.S3UploadCompleteApi.as_view(), name="s3-complete"),
]
