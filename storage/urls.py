from django.urls import path

from . import views

app_name = "files"

urlpatterns = [
    path("files/", views.file_list_page, name="list"),
    path("files/<uuid:file_id>/extend/", views.file_extend_page, name="extend"),
    path("files/<uuid:file_id>/delete/", views.file_delete_page, name="delete"),
    path("files/<uuid:file_id>/download/", views.file_download_page, name="download"),
]
