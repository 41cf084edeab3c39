from django.urls import path

from . import views

app_name = "conversions"

urlpatterns = [
    path("convert/", views.convert_submit, name="submit"),
    path("conversions/", views.conversion_list_page, name="list"),
    path("conversions/<uuid:conversion_id>/download/", views.conversion_download_page, name="download"),
    path("conversions/<uuid:conversion_id>/cancel/", views.conversion_cancel_page, name="cancel"),
    path("conversions/batch/<uuid:batch_id>/download/", views.batch_download_page, name="batch-download"),
]
