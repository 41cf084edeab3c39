from django.urls import path

from . import api, api_detect

app_name = "conversions"

urlpatterns = [
    path("supported-formats", api.SupportedFormatsApi.as_view(), name="supported-formats"),
    path("queue/status", api.QueueStatusApi.as_view(), name="queue-status"),
    path("convert", api.ConvertApi.as_view(), name="convert"),
    path("detect", api_detect.DetectApi.as_view(), name="detect"),
    path("history", api.HistoryApi.as_view(), name="history"),
    path("batch/<uuid:batch_id>/download", api.BatchDownloadApi.as_view(), name="batch-download"),
    path("<uuid:conversion_id>", api.ConversionDetailApi.as_view(), name="detail"),
    path("<uuid:conversion_id>/download", api.ConversionDownloadApi.as_view(), name="download"),
    path("<uuid:conversion_id>/convert-again", api.ConversionAgainApi.as_view(), name="convert-again"),
    path("<uuid:conversion_id>/cancel", api.ConversionCancelApi.as_view(), name="cancel"),
]
