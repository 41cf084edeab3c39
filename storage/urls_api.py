from django.urls import path

from . import api

app_name = "files"

urlpatterns = [
    path("", api.FileListApi.as_view(), name="list"),
    path("<uuid:file_id>", api.FileDeleteApi.as_view(), name="delete"),
    path("<uuid:file_id>/extend-retention", api.ExtendRetentionApi.as_view(), name="extend-retention"),
]
