from django.urls import path

from . import api

app_name = "conversions"

urlpatterns = [
    path("supported-formats", api.SupportedFormatsApi.as_view(), name="supported-formats"),
    path("queue/status", api.QueueStatusApi.as_view(), name="queue-status"),
    path("convert", api.ConvertApi.as_view(), name="convert"),
    path("history", api.HistoryApi.as_view(), name="history"),
    path("batch/<uuid:batch_id>/download", api.BatchDownloadApi.as_view(), name="batch-download"),
    path("<uuid:conversion_id>", api.ConversionDetailApi.as_view(), name="detail"),
    path("<uuid:conversion_id>/download", api.ConversionDownloadApi.as_view(), name="download"),
    path("<uuid:conversion_id>/cancel", api.ConversionCancelApi.as_view(), name="cancel"),
]
